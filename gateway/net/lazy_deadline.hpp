#pragma once
// A deadline that can be moved on every I/O event for free. Re-arming a Beast or
// Asio timer on each SSE piece costs a cancel and a new wait; here moving the
// deadline later is only a store, and the pending wait re-checks when it fires.
#include <chrono>
#include <memory>

#include "gateway/net/coarse_clock.hpp"
#include "gateway/net/worker_io.hpp"

namespace infergate {

class LazyDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `anchor(owner)` returns the owner's shared_ptr, kept by a pending wait so
  // the owner outlives it; `onExpire(owner)` runs on the owner's executor when
  // the deadline passes. Plain function pointers, not std::function: every
  // connection and every exchange holds one of these for its whole life (two
  // std::function are 64 bytes; these three pointers are 24).
  using Anchor = std::shared_ptr<void> (*)(void* owner);
  using Expire = void (*)(void* owner);
  LazyDeadline(WorkerExecutor ex, void* owner, Anchor anchor, Expire onExpire);

  void set(Clock::time_point at);
  void setAfter(Clock::duration d) { set(deadlineNow() + d); }  // never early, at most a tick late
  void clear() { enabled_ = false; }      // a pending wait stays and finds nothing to do
  void cancel();                          // also drops the pending wait (and the owner's anchor)
  bool enabled() const { return enabled_; }
  Clock::time_point at() const { return at_; }

 private:
  void wait(Clock::time_point until);
  void onWait(unsigned generation, boost::system::error_code ec);

  WorkerTimer timer_;
  void* owner_;
  Anchor anchor_;
  Expire onExpire_;
  Clock::time_point at_{};
  Clock::time_point waitingUntil_{};
  bool enabled_ = false;
  bool waiting_ = false;
  unsigned generation_ = 0;
};

}  // namespace infergate
