#include "gateway/server/memory_trimmer.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "filters/core/log_line.hpp"

namespace infergate {

namespace {

// Resident bytes of this process (/proc/self/statm, its second field), 0 if unreadable.
std::size_t residentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return read == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

bool trimAllocator() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// The memory the load stands for, roughly: a connection's few KiB, a body's bytes.
std::size_t weightOf(MemoryLoad load) { return load.connections * 4096 + load.bodyBytes; }

}  // namespace

bool TrimDecision::look(std::size_t resident, MemoryLoad load) {
  base_ = std::min(base_, resident);
  const std::size_t weight = weightOf(load);
  peak_ = std::max(peak_, weight);
  // At most half its peak since the last trim, or nothing to speak of: the
  // burst that made the memory is over.
  if (weight > (1u << 20) && weight * 2 > peak_) {
    quietLooks_ = 0;
    return false;
  }
  if (++quietLooks_ < 2) return false;
  return resident >= base_ + minFree_;
}

void TrimDecision::trimmed(std::size_t resident, MemoryLoad load) {
  base_ = resident;
  peak_ = weightOf(load);
  quietLooks_ = 0;
}

MemoryTrimmer::MemoryTrimmer(boost::asio::io_context& io, const config::MemoryTrim& config, LoadNow load)
    : config_(config), timer_(io), load_(std::move(load)), decision_(config.min_free) {}

void MemoryTrimmer::declareStats(metrics::StatsRegistry& stats) {
  using Zeros = metrics::FamilySpec::Zeros;
  stats.counterFrom({"infergate_memory_trims_total",
                     "Times the allocator's free memory was given back to the kernel after a burst (server.memory_trim).",
                     {}, Zeros::Export},
                    [this](std::span<const std::uint32_t>) { return static_cast<double>(trims_.load()); });
  stats.counterFrom({"infergate_memory_returned_bytes_total",
                     "Resident memory given back to the kernel by those trims.", {}, Zeros::Export},
                    [this](std::span<const std::uint32_t>) { return static_cast<double>(returnedBytes_.load()); });
}

void MemoryTrimmer::start() {
  if (!config_.enabled) return;
  decision_.trimmed(residentBytes(), load_());  // the idle level: a burst before the first look still counts
  schedule();
}

void MemoryTrimmer::stop() {
  stopped_ = true;
  timer_.cancel();
}

void MemoryTrimmer::schedule() {
  timer_.expires_after(config_.interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    look();
    schedule();
  });
}

void MemoryTrimmer::look() {
  const std::size_t before = residentBytes();
  const MemoryLoad load = load_();
  if (!decision_.look(before, load)) return;
  const bool released = trimAllocator();
  const std::size_t after = residentBytes();
  decision_.trimmed(after, load);
  trims_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t returned = before > after ? before - after : 0;
  returnedBytes_.fetch_add(returned, std::memory_order_relaxed);
  log::writef(log::Level::Info, {}, "memory trim: %.1f MiB given back (resident %.1f -> %.1f MiB)%s", mib(returned),
              mib(before), mib(after), released ? "" : "; the allocator had nothing to give");
}

}  // namespace infergate
