#pragma once
// Which configured key a request presents: its index, or why it is refused
// (a 401 message that never repeats what was presented). Shared by the route
// filter and the gateway's own endpoints (POST /v1/feedback).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "filters/auth/api_key_table.hpp"
#include "filters/core/http_messages.hpp"

namespace infergate::auth {

struct Verdict {
  std::optional<std::uint32_t> key;  // auth.keys index when admitted
  std::string refusal;               // else the 401 message
};

Verdict authenticate(const ProxyRequestHead& head, const ApiKeyTable& table,
                     const std::vector<config::ApiKeyConfig>& keys);

}  // namespace infergate::auth
