#pragma once
// One config in force: its resolved runtime (routes, backends, endpoint ids)
// and the filter chains built from it. A reload that keeps every series'
// meaning (the same routes, backends and model labels) publishes a new one;
// each worker takes it at its next request (a relaxed load of the number per
// request, a lock only when it changed), and a request keeps the generation
// it started on until it ends: requests and streams in flight finish on
// their config, and an old generation goes when its last request does.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "filters/filter_set.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

struct Generation {
  std::uint64_t number = 1;
  std::shared_ptr<const Runtime> runtime;
  std::unique_ptr<FilterSet> filters;
};

class GenerationSlot {
 public:
  // The control thread.
  void publish(std::shared_ptr<const Generation> next) {
    const auto number = next->number;
    {
      std::lock_guard lock(mutex_);
      current_ = std::move(next);
    }
    number_.store(number, std::memory_order_release);
  }
  // Any thread: cheap enough to compare on every request.
  std::uint64_t number() const { return number_.load(std::memory_order_acquire); }
  std::shared_ptr<const Generation> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Generation> current_;
  std::atomic<std::uint64_t> number_{0};
};

}  // namespace infergate
