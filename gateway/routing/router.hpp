#pragma once
// Maps (path, model) to a route. Routes are compiled from config once and
// matched in config order; the first match wins.
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/model_pattern.hpp"

namespace infergate {

class Router {
 public:
  explicit Router(const std::vector<config::RouteConfig>& routes) : routes_(routes) {}
  // `model` is null when the request has none (GET /v1/models, a non-JSON body):
  // such requests only match routes without a model filter.
  const config::RouteConfig* match(std::string_view path, const std::string* model) const;

 private:
  const std::vector<config::RouteConfig>& routes_;
};

}  // namespace infergate
