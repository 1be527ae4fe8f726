#include "gateway/net/deadline_heap.hpp"

#include <boost/asio/post.hpp>
#include <utility>

#include "gateway/net/lazy_deadline.hpp"

namespace infergate {

DeadlineHeap::DeadlineHeap(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      timer_(static_cast<boost::asio::io_context&>(context).get_executor()) {}

void DeadlineHeap::schedule(LazyDeadline& d, Clock::time_point at, std::shared_ptr<void> anchor) {
  if (stopped_) return;
  d.scheduledFor_ = at;
  if (d.index_ == kNotScheduled) {
    entries_.push_back(Entry{at, &d, std::move(anchor)});
    d.index_ = static_cast<std::uint32_t>(entries_.size() - 1);
    siftUp(d.index_);
  } else {
    const bool earlier = at < entries_[d.index_].key;
    entries_[d.index_].key = at;
    if (earlier) siftUp(d.index_);
    else siftDown(d.index_);
  }
  arm();
}

void DeadlineHeap::remove(LazyDeadline& d) {
  if (d.index_ == kNotScheduled) return;
  const std::size_t i = d.index_;
  d.index_ = kNotScheduled;
  Entry gone = std::move(entries_[i]);
  if (i + 1 < entries_.size()) {
    place(i, std::move(entries_.back()));
    entries_.pop_back();
    LazyDeadline* moved = entries_[i].deadline;
    siftUp(i);
    siftDown(moved->index_);
  } else {
    entries_.pop_back();
  }
  // The timer stays armed for what may now be too early a time: it finds
  // nothing due then and waits again. The owner's anchor goes last, once the
  // heap is whole again; if it is the owner's last reference, it goes from
  // the io_context, as a cancelled Asio wait's handler let it go: the owner
  // may be cancelling from inside one of its own functions.
  if (gone.anchor && gone.anchor.use_count() == 1 && !stopped_)
    boost::asio::post(timer_.get_executor(), [anchor = std::move(gone.anchor)] {});
}

void DeadlineHeap::place(std::size_t i, Entry&& e) {
  entries_[i] = std::move(e);
  entries_[i].deadline->index_ = static_cast<std::uint32_t>(i);
}

void DeadlineHeap::siftUp(std::size_t i) {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(entries_[i].key < entries_[parent].key)) break;
    Entry e = std::move(entries_[i]);
    place(i, std::move(entries_[parent]));
    place(parent, std::move(e));
    i = parent;
  }
}

void DeadlineHeap::siftDown(std::size_t i) {
  const std::size_t n = entries_.size();
  for (;;) {
    std::size_t least = i;
    const std::size_t l = 2 * i + 1, r = l + 1;
    if (l < n && entries_[l].key < entries_[least].key) least = l;
    if (r < n && entries_[r].key < entries_[least].key) least = r;
    if (least == i) return;
    Entry e = std::move(entries_[i]);
    place(i, std::move(entries_[least]));
    place(least, std::move(e));
    i = least;
  }
}

void DeadlineHeap::popTop(Entry& out) {
  out = std::move(entries_.front());
  out.deadline->index_ = kNotScheduled;
  if (entries_.size() > 1) {
    place(0, std::move(entries_.back()));
    entries_.pop_back();
    siftDown(0);
  } else {
    entries_.pop_back();
  }
}

// One Asio wait, for the earliest entry; re-armed only when an earlier one
// comes (or when the wait fires).
void DeadlineHeap::arm() {
  if (running_ || stopped_ || entries_.empty()) return;
  const auto top = entries_.front().key;
  if (top >= armedFor_) return;
  armedFor_ = top;
  ++generation_;
  timer_.expires_at(top);
  timer_.async_wait([this, generation = generation_](boost::system::error_code ec) { onTimer(generation, ec); });
}

void DeadlineHeap::onTimer(unsigned generation, boost::system::error_code ec) {
  if (generation != generation_ || ec == boost::asio::error::operation_aborted || stopped_) return;
  armedFor_ = Clock::time_point::max();
  running_ = true;
  const auto now = Clock::now();
  Entry e;
  while (!entries_.empty() && entries_.front().key <= now) {
    LazyDeadline& d = *entries_.front().deadline;
    if (d.enabled_ && d.at_ > now) {
      // Moved later while it waited: it goes back in for its new time.
      entries_.front().key = d.scheduledFor_ = d.at_;
      siftDown(0);
      continue;
    }
    popTop(e);  // e keeps the owner alive through its expiry
    if (d.enabled_) {
      d.enabled_ = false;
      d.onExpire_(d.owner_);
    }
    e.anchor.reset();
  }
  running_ = false;
  arm();
}

// The io_context is going away: the owners' anchors go (their deadlines are
// no longer in the heap when the owners' destructors look).
void DeadlineHeap::shutdown() {
  stopped_ = true;
  auto entries = std::move(entries_);
  entries_.clear();
  for (auto& e : entries) e.deadline->index_ = kNotScheduled;
  entries.clear();
}

}  // namespace infergate
