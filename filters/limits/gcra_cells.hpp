#pragma once
// Many GCRA cells of one rate in a fixed table, for limits keyed by something
// clients choose (their address): the table never grows, whatever they send.
// A key hashes to one cell; keys that collide share it. With 16,384 cells, a
// flood from one address shares a budget with a given other address 1 time in
// 16,384.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "filters/core/fnv_hash.hpp"
#include "filters/limits/gcra.hpp"

namespace infergate::limits {

class GcraCells {
 public:
  static constexpr std::size_t kCells = 16'384;

  GcraCells(std::uint64_t rate, std::int64_t periodNs)
      : periodNs_(periodNs),
        unitNs_(periodNs / static_cast<std::int64_t>(std::max<std::uint64_t>(rate, 1))),
        tat_(std::make_unique<std::atomic<std::int64_t>[]>(kCells)) {}

  static std::size_t cellOf(std::string_view key) { return static_cast<std::size_t>(fnv1a64(key) % kCells); }

  // Whether the cell could take one more unit now (nothing is taken).
  bool hasRoom(std::size_t cell, std::int64_t nowNs) const {
    return std::max(tat_[cell].load(std::memory_order_relaxed), nowNs) + unitNs_ - nowNs <= periodNs_;
  }
  // Until it has room again.
  std::int64_t waitNs(std::size_t cell, std::int64_t nowNs) const {
    return std::max<std::int64_t>(tat_[cell].load(std::memory_order_relaxed) + unitNs_ - nowNs - periodNs_, 0);
  }
  // Takes one unit, room or not (a failure happened; the next ones wait).
  void charge(std::size_t cell, std::int64_t nowNs) {
    auto& tat = tat_[cell];
    auto seen = tat.load(std::memory_order_relaxed);
    while (!tat.compare_exchange_weak(seen, std::max(seen, nowNs) + unitNs_, std::memory_order_relaxed)) {
    }
  }

 private:
  std::int64_t periodNs_;
  std::int64_t unitNs_;
  std::unique_ptr<std::atomic<std::int64_t>[]> tat_;
};

}  // namespace infergate::limits
