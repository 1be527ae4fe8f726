// The backends and routes sections, and the checks across sections.
#include <boost/url/parse.hpp>
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <re2/re2.h>
#include <set>

#include "config/profile_features.hpp"
#include "config/section_loader.hpp"

namespace infergate::config {

namespace {

bool isToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) != std::string_view::npos) return false;
  }
  return true;
}

bool iequals(const std::string& a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Headers the gateway owns: injecting them would break framing or routing.
bool reservedHeader(const std::string& name) {
  for (std::string_view r : {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
                             "te", "trailer", "proxy-connection", "expect"})
    if (iequals(name, r)) return true;
  return false;
}
}  // namespace

void SectionLoader::backends(const YAML::Node& n) {
  if (!reader_.checkSequence(n, "backends")) return;
  if (n.size() == 0) reader_.error(n, "backends must list at least one backend");
  for (const auto& b : n) backend(b);
}

void SectionLoader::backend(const YAML::Node& n) {
  BackendConfig b;
  if (!reader_.checkMap(n, "backend",
                        {"name", "endpoints", "headers", "timeouts", "pool", "inject_stream_usage", "dns_refresh", "load_balancing",
                         "circuit_breaker", "retry", "limits", "health_check", "signals", "tls"}))
    return;
  if (auto lb = n["load_balancing"]) {
    std::string text;
    if (reader_.scalar(lb, "load_balancing", text)) {
      if (text == "round_robin") b.load_balancing = LoadBalancing::RoundRobin;
      else if (text == "least_request") b.load_balancing = LoadBalancing::LeastRequest;
      else if (text == "weighted") b.load_balancing = LoadBalancing::Weighted;
      else if (text == "least_load") b.load_balancing = LoadBalancing::LeastLoad;
      else reader_.error(lb, "load_balancing must be round_robin, least_request, weighted or least_load, got '" + text + "'");
    }
  }
  if (auto t = n["tls"]; t && reader_.checkMap(t, "backend.tls", {"ca_file", "cert_file", "key_file", "server_name",
                                                                  "insecure_skip_verify"})) {
    reader_.readString(t, "ca_file", b.tls.ca_file);
    reader_.readString(t, "cert_file", b.tls.cert_file);
    reader_.readString(t, "key_file", b.tls.key_file);
    reader_.readString(t, "server_name", b.tls.server_name);
    reader_.readBool(t, "insecure_skip_verify", b.tls.insecure_skip_verify);
    if (b.tls.cert_file.empty() != b.tls.key_file.empty())
      reader_.error(t, "backend.tls needs both cert_file and key_file for a client certificate");
  }
  if (auto cb = n["circuit_breaker"]) circuitBreaker(cb, b.circuit_breaker);
  if (auto r = n["retry"]) retry(r, b.retry);
  if (auto l = n["limits"]; l && reader_.checkMap(l, "backend.limits", {"max_in_flight", "max_pending", "queue_timeout"})) {
    reader_.readUnsigned(l, "max_in_flight", b.limits.max_in_flight, 1000000);
    reader_.readUnsigned(l, "max_pending", b.limits.max_pending, 1000000);
    reader_.readDuration(l, "queue_timeout", b.limits.queue_timeout);
  }
  if (auto h = n["health_check"]; h && reader_.checkMap(h, "backend.health_check",
                                                       {"enabled", "path", "interval", "timeout", "healthy_threshold",
                                                        "unhealthy_threshold"})) {
    auto& hc = b.health_check;
    hc.enabled = true;
    reader_.readBool(h, "enabled", hc.enabled);
    reader_.readString(h, "path", hc.path);
    if (hc.path.empty() || hc.path.front() != '/') reader_.error(reader_.keyOr(h, "path"), "health_check.path must start with '/'");
    reader_.readDuration(h, "interval", hc.interval);
    reader_.readDuration(h, "timeout", hc.timeout);
    reader_.readUnsigned(h, "healthy_threshold", hc.healthy_threshold, 100);
    reader_.readUnsigned(h, "unhealthy_threshold", hc.unhealthy_threshold, 100);
    positive(h, "health_check.interval", hc.interval);
    positive(h, "health_check.timeout", hc.timeout);
    if (hc.healthy_threshold == 0) reader_.error(reader_.keyOr(h, "healthy_threshold"), "health_check.healthy_threshold must be at least 1");
    if (hc.unhealthy_threshold == 0)
      reader_.error(reader_.keyOr(h, "unhealthy_threshold"), "health_check.unhealthy_threshold must be at least 1");
  }
  if (auto s = n["signals"]) signals(s, b);
  if (b.load_balancing == LoadBalancing::LeastLoad && !b.signals.enabled)
    reader_.error(reader_.keyOr(n, "load_balancing"), "load_balancing: least_load needs the backend's signals (signals: {kind: vllm})");
  reader_.readString(n, "name", b.name);
  reader_.readBool(n, "inject_stream_usage", b.inject_stream_usage);
  reader_.readDuration(n, "dns_refresh", b.dns_refresh);
  if (b.name.empty()) reader_.error(n, "backend needs a non-empty 'name'");
  if (auto e = n["endpoints"]; e && reader_.checkSequence(e, "backend.endpoints")) {
    for (const auto& item : e) endpoint(item, b);
    if (e.size() == 0) reader_.error(e, "backend '" + b.name + "' must list at least one endpoint");
  } else if (!e) {
    reader_.error(n, "backend '" + b.name + "' needs 'endpoints'");
  }
  if (auto h = n["headers"]) headers(h, b);
  if (auto t = n["timeouts"];
      t && reader_.checkMap(t, "backend.timeouts", {"connect", "first_token", "idle", "total"})) {
    reader_.readDuration(t, "connect", b.timeouts.connect);
    reader_.readDuration(t, "first_token", b.timeouts.first_token);
    reader_.readDuration(t, "idle", b.timeouts.idle);
    reader_.readDuration(t, "total", b.timeouts.total);
    positive(t, "backend.timeouts.connect", b.timeouts.connect);
    positive(t, "backend.timeouts.first_token", b.timeouts.first_token);
    positive(t, "backend.timeouts.idle", b.timeouts.idle);
    positive(t, "backend.timeouts.total", b.timeouts.total);
  }
  if (auto p = n["pool"]; p && reader_.checkMap(p, "backend.pool", {"max_idle", "idle_ttl"})) {
    unsigned maxIdle = static_cast<unsigned>(b.pool.max_idle_per_endpoint);
    reader_.readUnsigned(p, "max_idle", maxIdle, 100000);
    b.pool.max_idle_per_endpoint = maxIdle;
    reader_.readDuration(p, "idle_ttl", b.pool.idle_ttl);
  }
  const bool anyTls = std::any_of(b.endpoints.begin(), b.endpoints.end(), [](const auto& e) { return e.tls; });
  if (anyTls) {
    if (b.tls.insecure_skip_verify)
      result_.warnings.push_back(reader_.where(n["tls"]) + "backend '" + b.name +
                                 "': tls.insecure_skip_verify is set: its certificates are not verified");
  }
  result_.config.backends.push_back(std::move(b));
}

void SectionLoader::circuitBreaker(const YAML::Node& n, CircuitBreakerConfig& c) {
  if (!reader_.checkMap(n, "backend.circuit_breaker",
                        {"consecutive_failures", "failure_rate", "window", "min_requests", "base_ejection",
                         "max_ejection", "half_open_probes", "max_ejected_percent", "failure_statuses",
                         "slow_first_token"}))
    return;
  reader_.readUnsigned(n, "consecutive_failures", c.consecutive_failures, 100000);
  readFraction(n, "failure_rate", c.failure_rate);
  reader_.readDuration(n, "window", c.window);
  reader_.readUnsigned(n, "min_requests", c.min_requests, 1000000);
  reader_.readDuration(n, "base_ejection", c.base_ejection);
  reader_.readDuration(n, "max_ejection", c.max_ejection);
  reader_.readUnsigned(n, "half_open_probes", c.half_open_probes, 10000);
  reader_.readUnsigned(n, "max_ejected_percent", c.max_ejected_percent, 100);
  readStatuses(n, "failure_statuses", c.failure_statuses);
  reader_.readDuration(n, "slow_first_token", c.slow_first_token);
  if (c.half_open_probes == 0) reader_.error(reader_.keyOr(n, "half_open_probes"), "circuit_breaker.half_open_probes must be at least 1");
  if (c.max_ejection < c.base_ejection) reader_.error(reader_.keyOr(n, "max_ejection"), "circuit_breaker.max_ejection must be >= base_ejection");
}

void SectionLoader::retry(const YAML::Node& n, RetryConfig& r) {
  if (!reader_.checkMap(n, "backend.retry",
                        {"max_attempts", "statuses", "budget", "min_retries_in_flight", "backoff_base", "backoff_max",
                         "max_retry_after", "on_first_token_timeout"}))
    return;
  reader_.readUnsigned(n, "max_attempts", r.max_attempts, 10);
  if (r.max_attempts == 0) reader_.error(reader_.keyOr(n, "max_attempts"), "retry.max_attempts must be at least 1 (1 = no retries)");
  readStatuses(n, "statuses", r.statuses);
  readFraction(n, "budget", r.budget);
  reader_.readUnsigned(n, "min_retries_in_flight", r.min_retries_in_flight, 100000);
  reader_.readDuration(n, "backoff_base", r.backoff_base);
  reader_.readDuration(n, "backoff_max", r.backoff_max);
  reader_.readDuration(n, "max_retry_after", r.max_retry_after);
  reader_.readBool(n, "on_first_token_timeout", r.on_first_token_timeout);
}

void SectionLoader::readFraction(const YAML::Node& map, const char* key, double& out) {
  auto node = map[key];
  std::string text;
  if (!node || !reader_.scalar(node, key, text)) return;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || v < 0 || v > 1) {
    reader_.error(node, std::string(key) + " must be a number between 0 and 1, got '" + text + "'");
    return;
  }
  out = v;
}

void SectionLoader::readStatuses(const YAML::Node& map, const char* key, std::vector<unsigned>& out) {
  std::vector<std::string> texts;
  auto node = map[key];
  if (!node) return;
  reader_.readStringList(map, key, texts);
  out.clear();
  for (const auto& t : texts) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || p != t.data() + t.size() || v < 100 || v > 599) {
      reader_.error(node, std::string(key) + ": '" + t + "' is not an HTTP status code");
      continue;
    }
    out.push_back(v);
  }
}

void SectionLoader::signals(const YAML::Node& n, BackendConfig& b) {
  if (!reader_.checkMap(n, "backend.signals", {"kind", "path", "interval", "timeout", "max_age", "running", "waiting",
                                               "kv_cache_usage", "max_waiting", "max_kv_cache", "shed_waiting",
                                               "shed_kv_cache", "prefix_affinity"}))
    return;
  auto& s = b.signals;
  s.enabled = true;
  std::string kind = "vllm";
  if (auto k = n["kind"]; k && reader_.scalar(k, "kind", kind)) {
    using Kind = config::SignalsConfig::Kind;
    if (kind == "vllm") s.kind = Kind::Vllm;
    else if (kind == "tgi") s.kind = Kind::Tgi;
    else if (kind == "sglang") s.kind = Kind::Sglang;
    else if (kind == "llamacpp") s.kind = Kind::Llamacpp;
    else if (kind == "custom") s.kind = Kind::Custom;
    else reader_.error(k, "signals.kind must be vllm, tgi, sglang, llamacpp or custom, got '" + kind + "'");
  }
  reader_.readString(n, "path", s.path);
  if (s.path.empty() || s.path.front() != '/') reader_.error(reader_.keyOr(n, "path"), "signals.path must start with '/'");
  reader_.readDuration(n, "interval", s.interval);
  reader_.readDuration(n, "timeout", s.timeout);
  reader_.readDuration(n, "max_age", s.max_age);
  positive(n, "signals.interval", s.interval);
  positive(n, "signals.timeout", s.timeout);
  reader_.readString(n, "running", s.running);
  reader_.readString(n, "waiting", s.waiting);
  reader_.readString(n, "kv_cache_usage", s.kv_cache_usage);
  if (s.kind == config::SignalsConfig::Kind::Custom && s.running.empty() && s.waiting.empty() && s.kv_cache_usage.empty())
    reader_.error(n, "signals of kind custom name at least one metric: running, waiting or kv_cache_usage");
  reader_.readUnsigned(n, "max_waiting", s.max_waiting, 1'000'000);
  if (n["max_kv_cache"]) readFraction(n, "max_kv_cache", s.max_kv_cache);
  reader_.readUnsigned(n, "shed_waiting", s.shed_waiting, 1'000'000);
  if (n["shed_kv_cache"]) readFraction(n, "shed_kv_cache", s.shed_kv_cache);
  if (auto a = n["prefix_affinity"]) {
    std::string text;
    if (reader_.scalar(a, "prefix_affinity", text)) {
      char* end = nullptr;
      s.prefix_affinity = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || s.prefix_affinity < 1 || s.prefix_affinity > 100)
        reader_.error(a, "signals.prefix_affinity is the load factor an affine endpoint may reach over the least "
                         "loaded one, between 1 and 100 (1.5: half as loaded again), got '" + text + "'");
    }
  }
}

void SectionLoader::endpoint(const YAML::Node& n, BackendConfig& b) {
  if (!reader_.checkMap(n, "endpoint", {"url", "weight", "resolve"})) return;
  e_weight_ = 1;
  reader_.readUnsigned(n, "weight", e_weight_, 10000);
  std::string url;
  if (!n["url"]) {
    reader_.error(n, "endpoint needs a 'url' such as http://127.0.0.1:8000");
    return;
  }
  if (!reader_.scalar(n["url"], "url", url)) return;
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    reader_.error(n["url"], "invalid endpoint url '" + url + "'");
    return;
  }
  const bool tls = parsed->scheme() == "https";
  if (parsed->scheme() != "http" && !tls) {
    reader_.error(n["url"], "endpoint url '" + url + "': the scheme must be http:// or https://");
    return;
  }
  // https:// defaults to 443, as hosted APIs are written; http:// says its port.
  if ((!parsed->has_port() && !tls) || (parsed->has_port() && parsed->port_number() == 0)) {
    reader_.error(n["url"], "endpoint url '" + url + "' needs an explicit non-zero port");
    return;
  }
  if (!(parsed->encoded_path().empty() || parsed->encoded_path() == "/") || parsed->has_query()) {
    reader_.error(n["url"], "endpoint url '" + url + "' must not have a path or query");
    return;
  }
  EndpointConfig e;
  e.weight = e_weight_;
  e_weight_ = 1;
  if (e.weight == 0) reader_.error(reader_.keyOr(n, "weight"), "endpoint weight must be at least 1");
  std::string host(parsed->encoded_host());
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  e.address = Address{host, parsed->has_port() ? parsed->port_number() : std::uint16_t{443}};
  e.tls = tls;
  if (auto r = n["resolve"]) {
    std::string mode;
    if (reader_.scalar(r, "resolve", mode)) {
      if (mode == "all") e.every_address = true;
      else if (mode != "first") reader_.error(r, "endpoint resolve must be 'first' (one endpoint for the name) or 'all' "
                                                 "(an endpoint per address, as for a headless Service), not '" + mode + "'");
    }
  }
  b.endpoints.push_back(std::move(e));
}

void SectionLoader::headers(const YAML::Node& n, BackendConfig& b) {
  if (!n.IsMap()) {
    reader_.error(n, "backend.headers must be a mapping of header name to value");
    return;
  }
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string value;
    if (!isToken(name)) {
      reader_.error(kv.first, "invalid header name '" + name + "'");
      continue;
    }
    if (reservedHeader(name)) {
      reader_.error(kv.first, "header '" + name + "' is managed by the gateway and cannot be injected");
      continue;
    }
    if (!reader_.scalar(kv.second, "header " + name, value)) continue;
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos) {
      // Do not echo the value: it is likely a secret.
      reader_.error(kv.second, "header '" + name + "' value contains a line break or NUL");
      continue;
    }
    b.headers.push_back({name, value});
  }
}

void SectionLoader::routes(const YAML::Node& n) {
  if (!reader_.checkSequence(n, "routes")) return;
  if (n.size() == 0) reader_.error(n, "routes must list at least one route");
  for (const auto& r : n) route(r);
}

void SectionLoader::route(const YAML::Node& n) {
  RouteConfig r;
  if (!reader_.checkMap(n, "route", {"name", "path_prefix", "models", "backend", "fallbacks", "rename_model", "validation",
                                      "sample_rate", "auth", "rate_limits"}))
    return;
  if (auto l = n["rate_limits"]) limits(l, reader_, "route rate_limits", r.limits);
  if (auto a = n["auth"]) {
    std::string mode;
    reader_.readString(n, "auth", mode);
    if (mode == "off") r.auth_required = false;
    else if (mode != "required") reader_.error(a, "route auth must be required or off, got '" + mode + "'");
  }
  if (auto v = n["validation"]; v && reader_.checkMap(v, "route.validation",
                                                     {"mode", "max_prompt_chars", "max_messages", "max_tokens_cap",
                                                      "max_tokens_action", "max_tokens_when_absent"})) {
    std::string mode = "enforce", action = "reject";
    reader_.readString(v, "mode", mode);
    if (mode == "observe") r.validation.mode = ValidationConfig::Mode::Observe;
    else if (mode != "enforce") reader_.error(v["mode"], "validation.mode must be enforce or observe, got '" + mode + "'");
    unsigned chars = 0, cap = 0;
    reader_.readUnsigned(v, "max_prompt_chars", chars, 100'000'000);
    reader_.readUnsigned(v, "max_messages", r.validation.max_messages, 1'000'000);
    reader_.readUnsigned(v, "max_tokens_cap", cap, 100'000'000);
    r.validation.max_prompt_chars = chars;
    r.validation.max_tokens_cap = cap;
    reader_.readString(v, "max_tokens_action", action);
    if (action == "clamp") r.validation.clamp_max_tokens = true;
    else if (action != "reject")
      reader_.error(v["max_tokens_action"], "validation.max_tokens_action must be reject or clamp, got '" + action + "'");
    std::string absent = "insert";
    reader_.readString(v, "max_tokens_when_absent", absent);
    if (absent == "allow") r.validation.insert_max_tokens_when_absent = false;
    else if (absent != "insert")
      reader_.error(v["max_tokens_when_absent"],
                    "validation.max_tokens_when_absent must be insert or allow, got '" + absent + "'");
  }
  reader_.readStringList(n, "fallbacks", r.fallbacks);
  reader_.readString(n, "name", r.name);
  if (r.name.empty()) reader_.error(n, "route needs a non-empty 'name'");
  reader_.readString(n, "path_prefix", r.path_prefix);
  if (r.path_prefix.empty() || r.path_prefix.front() != '/')
    reader_.error(n["path_prefix"] ? n["path_prefix"] : n, "route '" + r.name + "': path_prefix must start with '/'");
  reader_.readStringList(n, "models", r.models);
  for (const auto& m : r.models)
    if (m.empty()) reader_.error(n["models"], "route '" + r.name + "': model patterns must not be empty");
  reader_.readString(n, "backend", r.backend);
  if (r.backend.empty()) reader_.error(n, "route '" + r.name + "' needs a 'backend'");
  if (auto rm = n["rename_model"]) {
    reader_.readString(n, "rename_model", r.rename_model);
    if (r.rename_model.empty()) reader_.error(rm, "route '" + r.name + "': rename_model must not be empty");
    else if (r.rename_model.find_first_of("\"\\") != std::string::npos || 
             std::any_of(r.rename_model.begin(), r.rename_model.end(), [](unsigned char c) { return c < 0x20; }))
      reader_.error(rm, "route '" + r.name + "': rename_model must not contain quotes, backslashes or control characters");
  }
  if (n["sample_rate"]) readFraction(n, "sample_rate", r.sample_rate);
  routeNodes_.push_back(n);
  result_.config.routes.push_back(std::move(r));
}

void SectionLoader::crossChecks(const YAML::Node& root) {
  auto& c = result_.config;
  std::set<std::string> names;
  for (const auto& b : c.backends)
    if (!b.name.empty() && !names.insert(b.name).second)
      reader_.error(root["backends"], "duplicate backend name '" + b.name + "'");
  std::set<std::string> routeNames;
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    auto& r = c.routes[i];
    if (!r.name.empty() && !routeNames.insert(r.name).second)
      reader_.error(routeNodes_[i], "duplicate route name '" + r.name + "'");
    if (r.name == "none" || r.name == "feedback")
      reader_.error(routeNodes_[i]["name"], "route name '" + r.name +
                                                "' is reserved (metrics label requests no route takes 'none' and "
                                                "the gateway's own endpoints 'feedback')");
    bool found = false;
    for (std::size_t b = 0; b < c.backends.size(); ++b)
      if (c.backends[b].name == r.backend) {
        r.backend_index = b;
        found = true;
      }
    if (!found && !r.backend.empty())
      reader_.error(routeNodes_[i]["backend"], "route '" + r.name + "' names unknown backend '" + r.backend + "'");
    for (const auto& f : r.fallbacks) {
      bool known = false;
      for (std::size_t b = 0; b < c.backends.size(); ++b)
        if (c.backends[b].name == f) {
          r.fallback_indexes.push_back(b);
          known = true;
        }
      if (!known) reader_.error(routeNodes_[i]["fallbacks"], "route '" + r.name + "' names unknown fallback backend '" + f + "'");
      else if (f == r.backend) reader_.error(routeNodes_[i]["fallbacks"], "route '" + r.name + "': fallback '" + f + "' is its own backend");
    }
  }
  if (auto& j = c.sampling.judge; j.enabled && !j.backend.empty()) {
    bool known = false;
    for (std::size_t b = 0; b < c.backends.size(); ++b)
      if (c.backends[b].name == j.backend) {
        j.backend_index = b;
        known = true;
      }
    if (!known) reader_.error(judgeNode_["backend"], "sampling.judge names unknown backend '" + j.backend + "'");
  }
  if (c.server.listen.host == c.admin.listen.host && c.server.listen.port == c.admin.listen.port &&
      c.server.listen.port != 0)
    reader_.error(root["admin"] ? root["admin"] : root, "admin.listen must differ from server.listen");
}

}  // namespace infergate::config
