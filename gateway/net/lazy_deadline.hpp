#pragma once
// A deadline that can be moved on every I/O event for free. Re-arming a Beast or
// Asio timer on each SSE piece costs a cancel and a new wait; here moving the
// deadline later is only a store, and the worker's DeadlineHeap re-checks when
// the earlier time comes. The heap holds one timer for the whole worker
// (deadline_heap.hpp), so a deadline is 56 bytes and no pending operation.
#include <chrono>
#include <cstdint>
#include <memory>

#include "gateway/net/coarse_clock.hpp"
#include "gateway/net/worker_io.hpp"

namespace infergate {

class DeadlineHeap;

class LazyDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `anchor(owner)` returns the owner's shared_ptr, kept while the deadline is
  // set so the owner outlives it; `onExpire(owner)` runs on the owner's
  // executor when the deadline passes. Plain function pointers, not
  // std::function: every connection and every exchange holds one of these
  // for its whole life.
  using Anchor = std::shared_ptr<void> (*)(void* owner);
  using Expire = void (*)(void* owner);
  LazyDeadline(WorkerExecutor ex, void* owner, Anchor anchor, Expire onExpire);
  ~LazyDeadline();
  LazyDeadline(const LazyDeadline&) = delete;
  LazyDeadline& operator=(const LazyDeadline&) = delete;

  void set(Clock::time_point at);
  void setAfter(Clock::duration d) { set(deadlineNow() + d); }  // never early, at most a tick late
  void clear() { enabled_ = false; }      // its heap entry stays and finds nothing to do
  void cancel();                          // also leaves the heap (and lets the owner's anchor go)
  bool enabled() const { return enabled_; }
  Clock::time_point at() const { return at_; }

 private:
  friend class DeadlineHeap;
  DeadlineHeap& heap_;
  void* owner_;
  Anchor anchor_;
  Expire onExpire_;
  Clock::time_point at_{};
  Clock::time_point scheduledFor_{};  // its key in the heap, while in it
  std::uint32_t index_;               // its place in the heap, or DeadlineHeap::kNotScheduled
  bool enabled_ = false;
};

}  // namespace infergate
