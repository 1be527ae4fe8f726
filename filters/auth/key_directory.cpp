#include "filters/auth/key_directory.hpp"

#include <algorithm>

namespace infergate::auth {

KeySnapshot::KeySnapshot(std::vector<config::ApiKeyConfig> k, const std::vector<config::RouteConfig>& allRoutes,
                         std::vector<std::uint32_t> places)
    : keys(std::move(k)), table(keys), place(std::move(places)) {
  for (const auto& key : keys) {
    auto& allowed = routes.emplace_back();
    for (const auto& r : allRoutes)
      allowed.push_back(key.routes.empty() || std::find(key.routes.begin(), key.routes.end(), r.name) != key.routes.end());
  }
}

KeyDirectory::KeyDirectory(const config::Config& config, metrics::KeyNames& names, unsigned workers)
    : routes_(config.routes), names_(names), views_(workers) {
  std::string error;
  if (!replace(config.auth.keys, error)) throw std::runtime_error(error);
}

std::shared_ptr<const KeySnapshot> KeyDirectory::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

void KeyDirectory::refresh(View& view) const {
  std::lock_guard lock(mutex_);
  view.snapshot = latest_;
  view.generation = generation_.load(std::memory_order_relaxed);
}

bool KeyDirectory::replace(std::vector<config::ApiKeyConfig> keys, std::string& error) {
  // Room for every new name first, so that a refused replacement changes nothing.
  std::size_t fresh = 0;
  const auto placed = names_.count();
  for (const auto& k : keys) {
    bool known = false;
    for (std::uint32_t i = 1; i < placed && !known; ++i) known = names_.name(i) == k.name;
    fresh += !known;
  }
  if (placed - 1 + fresh > names_.capacity()) {
    error = "the keys would bring the key names seen since start to " + std::to_string(placed - 1 + fresh) +
            ", more than auth.max_keys (" + std::to_string(names_.capacity()) + ")";
    return false;
  }
  std::vector<std::uint32_t> places;
  for (const auto& k : keys) places.push_back(*names_.place(k.name));
  auto snapshot = std::make_shared<const KeySnapshot>(std::move(keys), routes_, std::move(places));
  for (const auto& listener : listeners_) listener(*snapshot);
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(snapshot);
    generation_.fetch_add(1, std::memory_order_release);
  }
  return true;
}

}  // namespace infergate::auth
