#include "gateway/net/lazy_deadline.hpp"

#include "gateway/net/deadline_heap.hpp"

namespace infergate {

LazyDeadline::LazyDeadline(WorkerExecutor ex, void* owner, Anchor anchor, Expire onExpire)
    : heap_(DeadlineHeap::of(ex)),
      owner_(owner),
      anchor_(anchor),
      onExpire_(onExpire),
      index_(DeadlineHeap::kNotScheduled) {}

LazyDeadline::~LazyDeadline() { heap_.remove(*this); }

void LazyDeadline::set(Clock::time_point at) {
  at_ = at;
  enabled_ = true;
  // In the heap for a time not later than `at`: it will look again then.
  if (index_ != DeadlineHeap::kNotScheduled && scheduledFor_ <= at) return;
  heap_.schedule(*this, at, index_ == DeadlineHeap::kNotScheduled ? anchor_(owner_) : nullptr);
}

void LazyDeadline::cancel() {
  enabled_ = false;
  heap_.remove(*this);
}

}  // namespace infergate
