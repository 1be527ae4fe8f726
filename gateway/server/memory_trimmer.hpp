#pragma once
// Gives the allocator's free memory back to the kernel once a burst is over.
//
// Why: the gateway keeps what it frees for reuse (malloc_tuning.cpp raises
// glibc's trim threshold, so that 200 KB bodies do not fault their pages in
// again on every request), and glibc gives back only the top of an arena in
// any case: the memory a burst of large prompts took stayed resident for as
// long as the process ran. (Sessions' memory goes back by itself: they live
// in slabs, slot_slab.hpp.)
//
// When: every `interval` the control thread reads the process's resident
// memory and the load that makes memory (open client connections, weighed at
// 4 KiB each, and request body bytes held). A burst is over when that load is
// at most half its peak since the last trim (or under 1 MiB), at two looks in
// a row; if resident memory is then at
// least `min_free` above where the last trim left it, malloc_trim() hands the
// free pages back (madvise). The allocator's own count of its free memory is
// not read: mallinfo2() walks every free block under each arena's lock (15 ms
// for 100,000 blocks, measured), and a worker allocating meanwhile would
// wait; the trim itself does the same walk, but once per burst.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "config/config.hpp"
#include "metrics/stats.hpp"

namespace infergate {

// The load that makes memory, as the trimmer reads it.
struct MemoryLoad {
  std::size_t connections = 0;  // open client connections
  std::size_t bodyBytes = 0;    // request body bytes held
};

// When to trim, from what each look reads. Pure, for its tests.
class TrimDecision {
 public:
  explicit TrimDecision(std::size_t minFree) : minFree_(minFree) {}
  // `resident`: the process's resident bytes. True: trim now.
  bool look(std::size_t resident, MemoryLoad load);
  // Where resident memory starts (the idle process), and where a trim left
  // it, with the load then: growth and the burst's peak count from there.
  void trimmed(std::size_t resident, MemoryLoad load);

 private:
  std::size_t minFree_;
  std::size_t base_ = SIZE_MAX;  // resident memory after the last trim, or the lowest seen since
  std::size_t peak_ = 0;         // the load's highest weight since the last trim
  unsigned quietLooks_ = 0;      // looks in a row with the load at most half its peak
};

class MemoryTrimmer {
 public:
  using LoadNow = std::function<MemoryLoad()>;
  MemoryTrimmer(boost::asio::io_context& io, const config::MemoryTrim& config, LoadNow load);
  void declareStats(metrics::StatsRegistry& stats);
  void start();
  void stop();

 private:
  void schedule();
  void look();

  const config::MemoryTrim config_;
  boost::asio::steady_timer timer_;
  LoadNow load_;
  TrimDecision decision_;
  bool stopped_ = false;
  // Read by the exposition (the admin thread).
  std::atomic<std::uint64_t> trims_{0};
  std::atomic<std::uint64_t> returnedBytes_{0};
};

}  // namespace infergate
