#pragma once
// What a new runtime changed in the endpoints, for the reload's log line:
// " mock/10.0.0.7:8000 mock/10.0.0.8:8000" added and removed.
#include <string>

#include "gateway/server/runtime.hpp"

namespace infergate {

struct EndpointChanges {
  std::string added;    // " backend/name" per endpoint in `after` only
  std::string removed;  // " backend/name" per endpoint in `before` only
};

EndpointChanges endpointChanges(const Runtime& before, const Runtime& after);

}  // namespace infergate
