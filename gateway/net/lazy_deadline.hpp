#pragma once
// A deadline that can be moved on every I/O event for free. Re-arming a Beast or
// Asio timer on each SSE piece costs a cancel and a new wait; here moving the
// deadline later is only a store, and the pending wait re-checks when it fires.
#include <chrono>
#include <functional>
#include <memory>

#include "gateway/net/coarse_clock.hpp"
#include "gateway/net/worker_io.hpp"

namespace infergate {

class LazyDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `anchor` returns the owner's shared_ptr, kept by a pending wait so the owner
  // outlives it; `onExpire` runs on the owner's executor when the deadline passes.
  LazyDeadline(WorkerExecutor ex, std::function<std::shared_ptr<void>()> anchor,
               std::function<void()> onExpire);

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
  std::function<std::shared_ptr<void>()> anchor_;
  std::function<void()> onExpire_;
  Clock::time_point at_{};
  Clock::time_point waitingUntil_{};
  bool enabled_ = false;
  bool waiting_ = false;
  unsigned generation_ = 0;
};

}  // namespace infergate
