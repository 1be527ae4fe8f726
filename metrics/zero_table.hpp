#pragma once
// Fixed-size tables of 8-byte cells that start as zeros and take memory only
// for the pages written.
//
// Why: a worker's metric arrays are sized for every label combination the
// config allows (a histogram over route/backend pairs x models x buckets was
// 520 KB here), and most cells stay zero for the process's life. A
// std::vector writes every zero when it is made, so all of it was resident:
// about 1.1 MB a worker, most of an idle gateway's 3 MB heap. Fresh anonymous
// pages read as zero without being touched; only the pages holding series in
// use become resident.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace infergate::metrics {

// `bytes` of zeroed memory: its own pages from 64 KiB up (untouched until
// written), a zeroed heap block below that.
class ZeroPages {
 public:
  explicit ZeroPages(std::size_t bytes);
  ~ZeroPages();
  ZeroPages(ZeroPages&& other) noexcept;
  ZeroPages& operator=(ZeroPages&& other) noexcept;
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;
  void* data() const { return data_; }

  static constexpr std::size_t kOwnPagesFrom = 64 * 1024;

 private:
  void release();
  void* data_ = nullptr;
  std::size_t mapped_ = 0;  // bytes mapped, 0 for a heap block
};

// Cells read and written with relaxed atomic loads and stores (std::atomic_ref:
// plain moves on x86): one worker writes, the scrape thread reads, and never
// sees a torn value.
template <class T>
class ZeroTable {
  static_assert(sizeof(T) == 8 && std::is_trivially_copyable_v<T>);

 public:
  explicit ZeroTable(std::size_t cells) : pages_(cells * sizeof(T)), size_(cells) {}
  T load(std::size_t i) const { return std::atomic_ref<T>(cell(i)).load(std::memory_order_relaxed); }
  void store(std::size_t i, T value) { std::atomic_ref<T>(cell(i)).store(value, std::memory_order_relaxed); }
  std::size_t size() const { return size_; }

 private:
  T& cell(std::size_t i) const { return static_cast<T*>(pages_.data())[i]; }
  ZeroPages pages_;
  std::size_t size_;
};

}  // namespace infergate::metrics
