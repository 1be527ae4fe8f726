#pragma once
// Request vectors handed from the workers to the drift monitor, which learns
// each model's half-space forest from them off the request path. One
// single-producer, single-consumer ring per worker: a push is a copy and a
// release store, no lock; a full ring drops the vector (the monitor needs a
// sample of each model's traffic, not every request).
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "filters/profile/half_space_forest.hpp"

namespace infergate::profile {

struct ModelVector {
  std::uint32_t model;
  FeatureVector vector;
};

class VectorQueue {
 public:
  static constexpr std::size_t kCapacity = 4096;  // per worker: 160 KiB

  explicit VectorQueue(unsigned workers) : rings_(workers) {
    for (auto& r : rings_) r = std::make_unique<Ring>();
  }

  // Worker `w` only.
  void push(unsigned w, std::uint32_t model, const FeatureVector& v) {
    auto& r = *rings_[w];
    const auto head = r.head.load(std::memory_order_relaxed);
    if (head - r.tail.load(std::memory_order_acquire) == kCapacity) {
      r.dropped.store(r.dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    r.slots[head % kCapacity] = {model, v};
    r.head.store(head + 1, std::memory_order_release);
  }

  // The monitor's thread only: every vector queued so far, in each worker's order.
  template <class Sink>
  void drain(Sink&& sink) {
    for (auto& ring : rings_) {
      auto& r = *ring;
      const auto head = r.head.load(std::memory_order_acquire);
      auto tail = r.tail.load(std::memory_order_relaxed);
      for (; tail != head; ++tail) sink(r.slots[tail % kCapacity]);
      r.tail.store(tail, std::memory_order_release);
    }
  }

  std::uint64_t dropped() const {
    std::uint64_t sum = 0;
    for (const auto& r : rings_) sum += r->dropped.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct Ring {
    alignas(64) std::atomic<std::uint64_t> head{0};  // written by the worker
    alignas(64) std::atomic<std::uint64_t> tail{0};  // written by the monitor
    std::atomic<std::uint64_t> dropped{0};
    ModelVector slots[kCapacity];
  };
  std::vector<std::unique_ptr<Ring>> rings_;
};

}  // namespace infergate::profile
