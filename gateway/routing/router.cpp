#include "gateway/routing/router.hpp"

namespace infergate {

const config::RouteConfig* Router::match(std::string_view path, const std::string* model) const {
  for (const auto& route : routes_) {
    if (path.substr(0, route.path_prefix.size()) != route.path_prefix) continue;
    if (route.models.empty()) return &route;
    if (model == nullptr) continue;
    for (const auto& pattern : route.models)
      if (globMatch(pattern, *model)) return &route;
  }
  return nullptr;
}

}  // namespace infergate
