#pragma once
// The fixed sets of label values, resolved from config once. Every label value
// a series can carry comes from here, so clients cannot create series: unknown
// models map to "other", status codes outside a fixed list map to their class.
#include <cstdint>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "metrics/key_names.hpp"
#include "metrics/stats.hpp"

namespace infergate::metrics {

class LabelSpace {
 public:
  static constexpr std::uint32_t kNone = 0;        // index of "none" in routes, backends, endpoints, models
  static constexpr std::uint32_t kOtherModel = 1;  // index of "other" in models

  // Endpoints as (config backend index, name), in id order: the resolved
  // runtime's (a `resolve: all` name is an endpoint per address). Without
  // them, the config's endpoints by authority.
  using EndpointNames = std::vector<std::pair<std::size_t, std::string>>;
  explicit LabelSpace(const config::Config& config, const EndpointNames* endpoints = nullptr);

  std::uint32_t routeCount() const { return static_cast<std::uint32_t>(routes_.size()); }
  std::uint32_t backendCount() const { return static_cast<std::uint32_t>(backends_.size()); }
  // Endpoints placed so far, "none" included (reloads may place more; an
  // index keeps its endpoint for the life of the process).
  std::uint32_t endpointCount() const { return endpointCount_.load(std::memory_order_acquire); }
  // Room for endpoint indexes ("none" included): server.max_endpoints + 1.
  std::uint32_t endpointCapacity() const { return static_cast<std::uint32_t>(endpoints_.size()); }
  std::uint32_t modelCount() const { return static_cast<std::uint32_t>(models_.size()); }
  std::uint32_t pairCount() const { return static_cast<std::uint32_t>(pairs_.size()); }
  static std::uint32_t codeCount();

  // The route label of the gateway's own endpoints (POST /v1/feedback): after
  // the config's routes, so that they are counted apart from proxied traffic
  // and from requests no route takes. Its name is reserved in config.
  static constexpr std::string_view kGatewayRouteName = "feedback";
  std::uint32_t gatewayRoute() const { return routeCount() - 1; }

  // Config route i is label index i + 1; backend j is j + 1; endpoint id e is e + 1.
  static std::uint32_t routeIndex(std::size_t configRoute) { return static_cast<std::uint32_t>(configRoute + 1); }
  static std::uint32_t backendIndex(std::size_t configBackend) { return static_cast<std::uint32_t>(configBackend + 1); }
  static std::uint32_t endpointIndex(std::size_t endpointId) { return static_cast<std::uint32_t>(endpointId + 1); }

  // The index of backend `backend`'s endpoint `authority`: its place if it
  // had one, else the next free one; nothing when the table is full. One
  // thread only (startup, then reloads on the control thread).
  std::optional<std::uint32_t> placeEndpoint(std::uint32_t backend, const std::string& authority);

  // Whether `next` (a reloaded config's labels) has the same routes, backends,
  // models and route-backend pairs in the same order: then every series
  // index keeps its meaning and the config can be put in force without a
  // restart. `why` says the first difference.
  bool sameShape(const LabelSpace& next, std::string& why) const;
  // Takes `next`'s zero-export tables (which models a route can serve): the
  // control thread, which also serves the scrapes that read them.
  void adoptRouting(const LabelSpace& next);

  // The label for a client's model: a configured name, else "other".
  std::uint32_t modelIndex(std::string_view model) const;
  static std::uint32_t codeIndex(unsigned status);

  // Which model labels a route's requests can carry, from its model patterns
  // (a glob can match names that are not labels: "other"; a route without
  // patterns takes any request). Families whose label sets follow from config
  // export these series at zero from the start, so that increase() sees the
  // first event and alerts comparing with zero can fire on it.
  bool configuredRoute(std::uint32_t route) const { return route != kNone && route != gatewayRoute(); }
  bool routeServesModel(std::uint32_t route, std::uint32_t model) const { return routeModel_[route][model] != 0; }
  bool backendServesModel(std::uint32_t backend, std::uint32_t model) const {
    return backendModel_[backend][model] != 0;
  }
  bool modelServed(std::uint32_t model) const;  // by some configured route

  // (route, backend) combinations that can occur, for families labelled by both.
  std::uint32_t pairIndex(std::uint32_t route, std::uint32_t backend) const;
  struct Pair {
    std::uint32_t route;
    std::uint32_t backend;
  };
  const Pair& pair(std::uint32_t index) const { return pairs_[index]; }

  // Dimensions for typed families (metrics/stats.hpp), in label-index order.
  Dimension routeDimension() const { return Dimension::of("route", routes_); }
  Dimension backendDimension(std::size_t first = 0) const { return Dimension::of("backend", backends_, first); }
  Dimension modelDimension() const { return Dimension::of("model", models_); }
  // Client API keys by name (index i + 1 the i-th name placed: auth.keys order
  // at start, then new names from reloads; "none" left out unless `first` is
  // 0). Room for auth.max_keys names; a series appears once its name has a place.
  Dimension keyDimension(std::size_t first = 1) const;
  static Dimension codeDimension();
  Dimension pairDimension() const;      // route and backend
  Dimension endpointDimension() const;  // backend and endpoint; "none" left out

  const std::string& route(std::uint32_t i) const { return routes_[i]; }
  const std::string& backend(std::uint32_t i) const { return backends_[i]; }
  const std::string& endpoint(std::uint32_t i) const { return endpoints_[i]; }
  std::uint32_t endpointBackend(std::uint32_t i) const { return endpointBackend_[i]; }
  const std::string& model(std::uint32_t i) const { return models_[i]; }
  const std::string& key(std::uint32_t i) const { return keys_->name(i); }  // 0 = "none"
  // Where new key names get their places (the key directory, on reload).
  KeyNames& keyNames() const { return *keys_; }
  static std::string_view code(std::uint32_t i);

 private:
  std::vector<std::string> routes_;
  std::vector<std::string> backends_;
  std::vector<std::string> endpoints_;          // capacity + 1; written before endpointCount_ publishes them
  std::vector<std::uint32_t> endpointBackend_;  // same
  std::atomic<std::uint32_t> endpointCount_{1};
  std::vector<std::string> models_;
  std::unique_ptr<KeyNames> keys_;
  // Transparent hashing: the request path looks a string_view up without building a string.
  struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
  };
  std::unordered_map<std::string, std::uint32_t, ViewHash, std::equal_to<>> modelLookup_;
  std::vector<Pair> pairs_;
  std::vector<std::vector<char>> routeModel_;    // [route][model]
  std::vector<std::vector<char>> backendModel_;  // [backend][model]: through any route it serves
  std::vector<std::vector<std::uint32_t>> pairOf_;  // [route][backend] -> pair, for the few pairs that exist
};

}  // namespace infergate::metrics
