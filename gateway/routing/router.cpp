#include "gateway/routing/router.hpp"

namespace infergate {

bool globMatch(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*': O(n·m) worst case.
  std::size_t p = 0, t = 0, starP = std::string_view::npos, starT = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

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
