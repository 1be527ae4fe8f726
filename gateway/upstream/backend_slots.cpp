#include "gateway/upstream/backend_slots.hpp"

#include <algorithm>

namespace infergate {

bool BackendSlots::tryAcquire() {
  if (waiting_.load(std::memory_order_relaxed) > 0) return false;
  auto current = inFlight_.load(std::memory_order_relaxed);
  do {
    const auto max = max_.load(std::memory_order_relaxed);
    if (max != 0 && current >= static_cast<std::int64_t>(max)) return false;
  } while (!inFlight_.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst));
  return true;
}

// The store of waiting_ here and the load of it in release(), each after the
// other side's change to inFlight_, are sequentially consistent: either the
// waiter sees the released slot or the releaser sees the waiter (no waiter
// is left in the list beside a free slot).
bool BackendSlots::wait(SlotMailbox& mailbox, std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  if (waiters_.size() >= maxPending_.load(std::memory_order_relaxed)) return false;
  waiters_.push_back({&mailbox, ticket});
  waiting_.store(static_cast<std::int64_t>(waiters_.size()), std::memory_order_seq_cst);
  admitWaitersLocked();  // a slot freed since the caller's tryAcquire
  return true;
}

void BackendSlots::setLimits(std::uint64_t maxInFlight, std::uint64_t maxPending) {
  std::lock_guard lock(mutex_);
  max_.store(maxInFlight, std::memory_order_relaxed);
  maxPending_.store(maxPending, std::memory_order_relaxed);
  admitWaitersLocked();
}

bool BackendSlots::cancel(std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [ticket](const Waiter& w) { return w.ticket == ticket; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  waiting_.store(static_cast<std::int64_t>(waiters_.size()), std::memory_order_seq_cst);
  return true;
}

void BackendSlots::release() {
  if (waiting_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard lock(mutex_);
    const auto max = max_.load(std::memory_order_relaxed);
    const bool overCap = max != 0 && inFlight_.load(std::memory_order_seq_cst) > static_cast<std::int64_t>(max);
    if (!waiters_.empty() && !overCap) {
      // The slot passes to the first waiter: in-flight stays the same.
      popFirstLocked();
      return;
    }
    if (!waiters_.empty()) {
      // A reload lowered the cap below what is held: the slot goes.
      inFlight_.fetch_sub(1, std::memory_order_seq_cst);
      admitWaitersLocked();
      return;
    }
  }
  inFlight_.fetch_sub(1, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard lock(mutex_);
    admitWaitersLocked();
  }
}

void BackendSlots::admitWaitersLocked() {
  while (!waiters_.empty()) {
    auto current = inFlight_.load(std::memory_order_seq_cst);
    const auto max = max_.load(std::memory_order_relaxed);
    if (max != 0 && current >= static_cast<std::int64_t>(max)) return;
    if (inFlight_.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst)) popFirstLocked();
  }
}

void BackendSlots::popFirstLocked() {
  const auto first = waiters_.front();
  waiters_.pop_front();
  waiting_.store(static_cast<std::int64_t>(waiters_.size()), std::memory_order_seq_cst);
  first.mailbox->deliver(first.ticket);
}

}  // namespace infergate
