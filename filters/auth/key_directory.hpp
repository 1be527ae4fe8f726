#pragma once
// The client API keys in force, replaceable while the gateway runs (a keys
// file read again on SIGHUP or when it changes) without touching connections
// or requests in flight.
//
// A replacement builds a new KeySnapshot and publishes it with a generation
// number; each worker keeps its own reference to the snapshot it uses and
// looks at the generation once per request (one relaxed load, no lock, no
// shared reference count touched), taking the new snapshot only when it
// changed. A request keeps using the snapshot it started with.
//
// A key's identity is its name: its place in metrics::KeyNames (the `key`
// label, RequestRecord::key) stays the same across reloads, so its series and
// limits carry on; a new name takes a new place while auth.max_keys allows.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "filters/auth/api_key_table.hpp"
#include "metrics/key_names.hpp"

namespace infergate::auth {

struct KeySnapshot {
  KeySnapshot(std::vector<config::ApiKeyConfig> keys, const std::vector<config::RouteConfig>& routes,
              std::vector<std::uint32_t> places);
  std::vector<config::ApiKeyConfig> keys;   // the table's order
  ApiKeyTable table;                        // digest -> index in keys
  std::vector<std::uint32_t> place;         // [index]: the key's label index (KeyNames), RequestRecord::key
  std::vector<std::vector<char>> routes;    // [index][route]: the key may use the route (config order)
};

class KeyDirectory {
 public:
  KeyDirectory(const config::Config& config, metrics::KeyNames& names, unsigned workers);

  // The snapshot worker `worker` uses now; valid until its next call.
  const KeySnapshot& current(unsigned worker) const {
    auto& view = views_[worker];
    if (view.generation != generation_.load(std::memory_order_acquire)) refresh(view);
    return *view.snapshot;
  }
  // The newest snapshot (any thread).
  std::shared_ptr<const KeySnapshot> latest() const;

  // Puts `keys` in force (one thread at a time: the server's control thread).
  // Refused, with the reason, when new names would pass auth.max_keys: the
  // keys in force stay.
  bool replace(std::vector<config::ApiKeyConfig> keys, std::string& error);
  // Called after each replacement, on the replacing thread (the rate limiter
  // gives new or changed keys their limits).
  void onReplaced(std::function<void(const KeySnapshot&)> listener) { listeners_.push_back(std::move(listener)); }

  std::uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  const metrics::KeyNames& names() const { return names_; }

 private:
  struct alignas(64) View {
    std::uint64_t generation = 0;
    std::shared_ptr<const KeySnapshot> snapshot;
  };
  void refresh(View& view) const;

  const std::vector<config::RouteConfig>& routes_;
  metrics::KeyNames& names_;
  mutable std::mutex mutex_;  // guards latest_ (taken by a worker only when the generation moved)
  std::shared_ptr<const KeySnapshot> latest_;
  std::atomic<std::uint64_t> generation_{1};
  mutable std::vector<View> views_;
  std::vector<std::function<void(const KeySnapshot&)>> listeners_;
};

}  // namespace infergate::auth
