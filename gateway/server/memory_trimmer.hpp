#pragma once
// Gives the allocator's free memory back to the kernel once a burst is over.
//
// Why: the gateway keeps what it frees for reuse (malloc_tuning.cpp raises
// glibc's trim threshold, so that 200 KB bodies do not fault their pages in
// again on every request), and glibc gives back only the top of an arena in
// any case. After 8,000 streams end, what their sessions held stays resident
// (34 MB against 11 idle) for as long as the process runs. Here, on the
// control thread, the allocator's free bytes are read every `interval`; when
// they were at least `min_free` at two looks in a row (the burst is over:
// nothing took them back meanwhile) and resident memory is at least
// `min_free` above where the last trim left it, malloc_trim() hands the free
// pages back (madvise). A worker that allocates meanwhile waits for its arena
// for the trim's duration, about a millisecond, once per burst.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "config/config.hpp"
#include "metrics/stats.hpp"

namespace infergate {

// When to trim, from what each look reads. Pure, for its tests.
class TrimDecision {
 public:
  explicit TrimDecision(std::size_t minFree) : minFree_(minFree) {}
  // `freeBytes`: the allocator's free bytes (malloc's own count, which a trim
  // does not lower); `resident`: the process's resident bytes. True: trim now.
  bool look(std::size_t freeBytes, std::size_t resident);
  // Where resident memory starts (the idle process), and where a trim left
  // it: growth is counted from there.
  void trimmed(std::size_t resident);

 private:
  std::size_t minFree_;
  std::size_t base_ = SIZE_MAX;  // resident memory after the last trim, or the lowest seen since
  unsigned freeLooks_ = 0;       // looks in a row with at least minFree_ free
};

class MemoryTrimmer {
 public:
  MemoryTrimmer(boost::asio::io_context& io, const config::MemoryTrim& config);
  void declareStats(metrics::StatsRegistry& stats);
  void start();
  void stop();

 private:
  void schedule();
  void look();

  const config::MemoryTrim config_;
  boost::asio::steady_timer timer_;
  TrimDecision decision_;
  bool stopped_ = false;
  // Read by the exposition (the admin thread).
  std::atomic<std::uint64_t> freeBytes_{0};
  std::atomic<std::uint64_t> trims_{0};
  std::atomic<std::uint64_t> returnedBytes_{0};
};

}  // namespace infergate
