#pragma once
// One worker's side of the backends' wait lists: the requests of this worker
// waiting for a slot, and the mailbox through which any thread hands them one.
// A delivery raises the worker's wakeup; the worker then resumes each waiter on
// its own thread.
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "gateway/net/worker_wakeup.hpp"
#include "gateway/upstream/backend_slots.hpp"

namespace infergate {

class SlotWaits final : public SlotMailbox {
 public:
  SlotWaits(unsigned worker, WorkerWakeup& wakeup) : nextTicket_(std::uint64_t{worker} << 48), wakeup_(wakeup) {}

  // Worker thread: a ticket for a request about to wait; `granted` runs on this
  // thread when it is handed a slot (unless forgotten first).
  std::uint64_t enter(std::function<void()> granted);
  void forget(std::uint64_t ticket);
  // Worker thread, on WorkerWakeup::kSlotGranted: resumes the granted waiters.
  void resumeGranted();

  void deliver(std::uint64_t ticket) override;  // any thread

 private:
  std::uint64_t nextTicket_;
  WorkerWakeup& wakeup_;
  std::unordered_map<std::uint64_t, std::function<void()>> waiting_;  // worker thread only
  std::mutex mutex_;
  std::vector<std::uint64_t> delivered_;  // guarded by mutex_
  std::vector<std::uint64_t> resuming_;   // worker thread only (swapped with delivered_)
};

}  // namespace infergate
