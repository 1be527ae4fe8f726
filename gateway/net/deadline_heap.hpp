#pragma once
// One timer per worker for all of its connections' deadlines.
//
// Why: every connection and every exchange held an Asio timer (72 bytes) and,
// while a deadline was set, its pending wait (an operation of about 120 bytes
// and an entry in the timer queue). Thousands of open streams each carried
// that for their life. Here a deadline is an entry in the worker's heap, and
// only the earliest one has an Asio wait: setting a deadline later than the
// earliest (the usual case: every new timeout ends after the ones already
// running) touches no timer at all.
//
// An io_context service, so each worker's io_context has its own heap and a
// LazyDeadline finds it from its executor. Runs on that worker's thread only.
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/net/worker_io.hpp"

namespace infergate {

class LazyDeadline;

class DeadlineHeap final : public boost::asio::execution_context::service {
 public:
  using Clock = std::chrono::steady_clock;
  using key_type = DeadlineHeap;
  static inline boost::asio::execution_context::id id;
  static constexpr std::uint32_t kNotScheduled = UINT32_MAX;

  explicit DeadlineHeap(boost::asio::execution_context& context);
  static DeadlineHeap& of(const WorkerExecutor& ex) { return boost::asio::use_service<DeadlineHeap>(ex.context()); }

  // `d` is due at `at`; its owner is kept alive (`anchor`) while it is in
  // the heap. Already in: moved to `at` (earlier or later).
  void schedule(LazyDeadline& d, Clock::time_point at, std::shared_ptr<void> anchor);
  void remove(LazyDeadline& d);  // no-op when not in the heap
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Clock::time_point key;
    LazyDeadline* deadline;
    std::shared_ptr<void> anchor;
  };
  void shutdown() override;
  void siftUp(std::size_t i);
  void siftDown(std::size_t i);
  void place(std::size_t i, Entry&& e);
  void popTop(Entry& out);
  void arm();
  void onTimer(unsigned generation, boost::system::error_code ec);

  std::vector<Entry> entries_;
  WorkerTimer timer_;
  Clock::time_point armedFor_ = Clock::time_point::max();
  unsigned generation_ = 0;
  bool running_ = false;  // inside onTimer: it re-arms once when done
  bool stopped_ = false;
};

}  // namespace infergate
