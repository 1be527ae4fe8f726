#include "metrics/label_space.hpp"

#include <algorithm>
#include <array>

#include "config/model_pattern.hpp"

namespace infergate::metrics {

namespace {
// Status codes common enough in LLM traffic to get their own label value;
// anything else is reported by class ("2xx" ... "5xx").
constexpr std::array<std::string_view, 27> kCodes = {
    "none", "200", "201", "204", "400", "401", "403", "404", "405", "408", "409", "413", "415", "422",
    "429",  "431", "499", "500", "501", "502", "503", "504", "1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr std::uint32_t kFirstClass = 22;
}  // namespace

LabelSpace::LabelSpace(const config::Config& config, const EndpointNames* endpoints) {
  routes_.push_back("none");
  for (const auto& r : config.routes) routes_.push_back(r.name);
  routes_.emplace_back(kGatewayRouteName);
  backends_.push_back("none");
  std::size_t configured = 0;
  for (const auto& b : config.backends) configured += b.endpoints.size();
  const auto capacity = std::max<std::size_t>(config.server.max_endpoints, configured) + 1;
  endpoints_.assign(capacity, {});
  endpointBackend_.assign(capacity, kNone);
  endpoints_[0] = "none";
  for (std::size_t b = 0; b < config.backends.size(); ++b) {
    backends_.push_back(config.backends[b].name);
    if (endpoints == nullptr)
      for (const auto& e : config.backends[b].endpoints) placeEndpoint(backendIndex(b), e.address.authority());
  }
  if (endpoints != nullptr)
    for (const auto& [backend, name] : *endpoints) placeEndpoint(backendIndex(backend), name);
  keys_ = std::make_unique<KeyNames>(std::max<std::size_t>(config.auth.max_keys, config.auth.keys.size()));
  for (const auto& k : config.auth.keys) keys_->place(k.name);
  models_ = {"none", "other"};
  auto addModel = [this](const std::string& name) {
    if (name.find('*') != std::string::npos || modelLookup_.count(name)) return;
    modelLookup_.emplace(name, static_cast<std::uint32_t>(models_.size()));
    models_.push_back(name);
  };
  for (const auto& r : config.routes)
    for (const auto& m : r.models) addModel(m);
  for (const auto& m : config.metrics.model_labels) addModel(m);

  pairOf_.assign(routes_.size(), std::vector<std::uint32_t>(backends_.size(), 0));
  pairs_.push_back({kNone, kNone});
  for (std::size_t r = 0; r < config.routes.size(); ++r) {
    const auto route = routeIndex(r);
    std::vector<std::size_t> backends{config.routes[r].backend_index};
    backends.insert(backends.end(), config.routes[r].fallback_indexes.begin(), config.routes[r].fallback_indexes.end());
    for (auto b : backends) {
      const auto backend = backendIndex(b);
      if (pairOf_[route][backend] != 0) continue;
      pairOf_[route][backend] = static_cast<std::uint32_t>(pairs_.size());
      pairs_.push_back({route, backend});
    }
  }
  pairOf_[gatewayRoute()][kNone] = static_cast<std::uint32_t>(pairs_.size());
  pairs_.push_back({gatewayRoute(), kNone});

  routeModel_.assign(routes_.size(), std::vector<char>(models_.size(), 0));
  for (std::size_t r = 0; r < config.routes.size(); ++r) {
    auto& serves = routeModel_[routeIndex(r)];
    const auto& patterns = config.routes[r].models;
    if (patterns.empty()) {
      std::fill(serves.begin(), serves.end(), 1);
      continue;
    }
    for (std::uint32_t m = kOtherModel + 1; m < models_.size(); ++m)
      for (const auto& p : patterns) serves[m] = serves[m] || globMatch(p, models_[m]);
    for (const auto& p : patterns) serves[kOtherModel] = serves[kOtherModel] || p.find('*') != std::string::npos;
  }
  backendModel_.assign(backends_.size(), std::vector<char>(models_.size(), 0));
  for (const auto& p : pairs_)
    for (std::uint32_t m = 0; m < models_.size(); ++m)
      backendModel_[p.backend][m] = backendModel_[p.backend][m] || routeModel_[p.route][m];
}

std::optional<std::uint32_t> LabelSpace::placeEndpoint(std::uint32_t backend, const std::string& authority) {
  const auto n = endpointCount_.load(std::memory_order_relaxed);
  for (std::uint32_t i = 1; i < n; ++i)
    if (endpointBackend_[i] == backend && endpoints_[i] == authority) return i;
  if (n >= endpoints_.size()) return std::nullopt;
  endpoints_[n] = authority;
  endpointBackend_[n] = backend;
  endpointCount_.store(n + 1, std::memory_order_release);
  return n;
}

bool LabelSpace::sameShape(const LabelSpace& next, std::string& why) const {
  const auto differ = [&why](const char* what, const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a == b) return false;
    std::string list;
    for (std::size_t i = 1; i < b.size(); ++i) list += (i > 1 ? ", " : "") + b[i];
    why = std::string(what) + " would become [" + list + "]";
    return true;
  };
  // The gateway's own route (last) is not the config's.
  const auto configRoutes = [](const std::vector<std::string>& r) { return std::vector<std::string>(r.begin(), r.end() - 1); };
  if (differ("routes", configRoutes(routes_), configRoutes(next.routes_)) || differ("backends", backends_, next.backends_) ||
      differ("model labels", models_, next.models_))
    return false;
  const auto samePair = [](const Pair& a, const Pair& b) { return a.route == b.route && a.backend == b.backend; };
  if (!std::equal(pairs_.begin(), pairs_.end(), next.pairs_.begin(), next.pairs_.end(), samePair)) {
    why = "the backends and fallbacks a route can use would change";
    return false;
  }
  return true;
}

void LabelSpace::adoptRouting(const LabelSpace& next) {
  routeModel_ = next.routeModel_;
  backendModel_ = next.backendModel_;
}

bool LabelSpace::modelServed(std::uint32_t model) const {
  for (std::uint32_t r = 1; r < routes_.size(); ++r)
    if (configuredRoute(r) && routeModel_[r][model]) return true;
  return false;
}

std::uint32_t LabelSpace::codeCount() { return static_cast<std::uint32_t>(kCodes.size()); }

std::uint32_t LabelSpace::modelIndex(std::string_view model) const {
  if (auto it = modelLookup_.find(model); it != modelLookup_.end()) return it->second;
  return kOtherModel;
}

std::uint32_t LabelSpace::codeIndex(unsigned status) {
  if (status == 0) return 0;
  for (std::uint32_t i = 1; i < kFirstClass; ++i) {
    const auto c = kCodes[i];
    if (static_cast<unsigned>((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0')) == status) return i;
  }
  if (status >= 100 && status < 600) return kFirstClass + (status / 100 - 1);
  return 0;
}

std::string_view LabelSpace::code(std::uint32_t i) { return kCodes[i]; }

std::uint32_t LabelSpace::pairIndex(std::uint32_t route, std::uint32_t backend) const {
  return pairOf_[route][backend];
}

Dimension LabelSpace::codeDimension() {
  std::vector<std::string> codes;
  for (std::uint32_t c = 0; c < codeCount(); ++c) codes.emplace_back(code(c));
  return Dimension::of("code", std::move(codes));
}

Dimension LabelSpace::pairDimension() const {
  std::vector<std::vector<std::string>> values;
  for (const auto& p : pairs_) values.push_back({routes_[p.route], backends_[p.backend]});
  return Dimension::tuple({"route", "backend"}, std::move(values));
}

// Sized for every endpoint the process may have; an index gets its labels
// (and its series) once a config places an endpoint there.
Dimension LabelSpace::endpointDimension() const {
  return Dimension(endpoints_.size(), [this](std::uint32_t value, std::span<const std::uint32_t>, Labels& out) {
    if (value == kNone || value >= endpointCount()) return false;
    out.push_back({"backend", backends_[endpointBackend_[value]]});
    out.push_back({"endpoint", endpoints_[value]});
    return true;
  });
}

Dimension LabelSpace::keyDimension(std::size_t first) const {
  const KeyNames* names = keys_.get();
  return Dimension(names->capacity() + 1, [names, first](std::uint32_t value, std::span<const std::uint32_t>, Labels& out) {
    if (value < first || value >= names->count()) return false;
    out.push_back({"key", names->name(value)});
    return true;
  });
}

}  // namespace infergate::metrics
