#pragma once
// The names of client API keys as label values: index i + 1 is the i-th name
// ever given a place, 0 is "none". Names are only ever appended (a reloaded
// keys file may add keys) and an index never changes its name, so that a
// series never changes whose it is; the capacity (auth.max_keys) bounds the
// series clients' keys can have. Appended on one thread; read anywhere
// without a lock (a name is written before the count that publishes it).
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace infergate::metrics {

class KeyNames {
 public:
  explicit KeyNames(std::size_t capacity) : names_(capacity + 1) { names_[0] = "none"; }

  std::size_t capacity() const { return names_.size() - 1; }
  std::uint32_t count() const { return count_.load(std::memory_order_acquire); }  // including "none"
  // The index of `name`, given a place if it has none and there is room.
  // One thread only (startup, then reloads).
  std::optional<std::uint32_t> place(const std::string& name) {
    const auto n = count_.load(std::memory_order_relaxed);
    for (std::uint32_t i = 1; i < n; ++i)
      if (names_[i] == name) return i;
    if (n >= names_.size()) return std::nullopt;
    names_[n] = name;
    count_.store(n + 1, std::memory_order_release);
    return n;
  }
  // A placed index's name ("none" for 0); an index not placed yet reads "".
  const std::string& name(std::uint32_t i) const {
    static const std::string empty;
    return i < count() ? names_[i] : empty;
  }

 private:
  std::vector<std::string> names_;
  std::atomic<std::uint32_t> count_{1};
};

}  // namespace infergate::metrics
