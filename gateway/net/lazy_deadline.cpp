#include "gateway/net/lazy_deadline.hpp"

namespace infergate {

LazyDeadline::LazyDeadline(WorkerExecutor ex, void* owner, Anchor anchor, Expire onExpire)
    : timer_(std::move(ex)), owner_(owner), anchor_(anchor), onExpire_(onExpire) {}

void LazyDeadline::set(Clock::time_point at) {
  at_ = at;
  enabled_ = true;
  if (!waiting_ || at < waitingUntil_) wait(at);
}

void LazyDeadline::cancel() {
  enabled_ = false;
  if (waiting_) {
    ++generation_;
    waiting_ = false;
    timer_.cancel();
  }
}

void LazyDeadline::wait(Clock::time_point until) {
  ++generation_;
  waiting_ = true;
  waitingUntil_ = until;
  timer_.expires_at(until);
  timer_.async_wait([this, keep = anchor_(owner_), generation = generation_](boost::system::error_code ec) {
    onWait(generation, ec);
  });
}

void LazyDeadline::onWait(unsigned generation, boost::system::error_code ec) {
  if (generation != generation_) return;  // superseded by a newer wait, or cancelled
  waiting_ = false;
  if (!enabled_) return;
  if (Clock::now() < at_) {
    wait(at_);  // the deadline moved later while we waited
    return;
  }
  enabled_ = false;
  onExpire_(owner_);
}

}  // namespace infergate
