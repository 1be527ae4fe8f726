#pragma once
// A backend's concurrency cap (limits.max_in_flight) and its wait list
// (limits.max_pending), shared by every worker. A request takes a slot for as
// long as it uses the backend; when none is free it may wait in a FIFO list,
// and a released slot is handed straight to the first waiter, whose worker is
// woken through its mailbox (no polling). The common path is one atomic
// compare-exchange; the list's lock is taken only while someone waits.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

namespace infergate {

// Where a worker receives the slots handed to its waiting requests.
class SlotMailbox {
 public:
  virtual ~SlotMailbox() = default;
  // Any thread: the waiter `ticket` of this worker now holds a slot.
  virtual void deliver(std::uint64_t ticket) = 0;
};

class BackendSlots {
 public:
  // 0 = no cap (slots are still counted: the retry budget reads them).
  BackendSlots(std::uint64_t maxInFlight, std::uint64_t maxPending) : max_(maxInFlight), maxPending_(maxPending) {}

  // A slot now, unless the cap is reached or requests already wait (first come, first served).
  bool tryAcquire();
  // Joins the wait list; false when it is full (max_pending).
  bool wait(SlotMailbox& mailbox, std::uint64_t ticket);
  // Leaves the wait list. False when the ticket was already handed a slot
  // (its delivery is on the way): the caller holds that slot and must release it.
  bool cancel(std::uint64_t ticket);
  // Gives a slot back: to the first waiter if any, else to the pool.
  void release();
  // A reload's caps: slots held stay held (a lower cap admits nobody new
  // until enough are released); a higher one admits waiters at once.
  void setLimits(std::uint64_t maxInFlight, std::uint64_t maxPending);

  std::int64_t inFlight() const { return inFlight_.load(std::memory_order_relaxed); }
  std::int64_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  void admitWaitersLocked();  // free slots to the first waiters
  void popFirstLocked();      // hands the first waiter its slot

  struct Waiter {
    SlotMailbox* mailbox;
    std::uint64_t ticket;
  };
  std::atomic<std::uint64_t> max_;
  std::atomic<std::uint64_t> maxPending_;
  std::atomic<std::int64_t> inFlight_{0};
  std::atomic<std::int64_t> waiting_{0};  // mirrors waiters_.size(), read without the lock
  std::mutex mutex_;
  std::deque<Waiter> waiters_;
};

}  // namespace infergate
