#include "gateway/server/endpoint_changes.hpp"

#include <algorithm>
#include <vector>

namespace infergate {

namespace {
// Ids of `r`'s endpoints, as flags over `size` ids.
std::vector<char> idsOf(const Runtime& r, std::size_t size) {
  std::vector<char> in(size, 0);
  for (const auto& b : r.backends)
    for (const auto& e : b.endpoints) in[e.id] = 1;
  return in;
}

std::string onlyIn(const Runtime& r, const std::vector<char>& other) {
  std::string names;
  for (const auto& b : r.backends)
    for (const auto& e : b.endpoints)
      if (!other[e.id]) names += " " + b.config->name + "/" + e.name;
  return names;
}
}  // namespace

EndpointChanges endpointChanges(const Runtime& before, const Runtime& after) {
  // Each runtime's ids are below its own endpointCount.
  const auto size = std::max(before.endpointCount, after.endpointCount);
  return {onlyIn(after, idsOf(before, size)), onlyIn(before, idsOf(after, size))};
}

}  // namespace infergate
