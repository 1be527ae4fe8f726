#include "config/loader.hpp"

#include <boost/url/parse.hpp>
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <re2/re2.h>
#include <set>

#include "config/profile_features.hpp"
#include "config/yaml_reader.hpp"

namespace infergate::config {

std::string Address::authority() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool parseAddress(const std::string& text, Address& out, std::string& error) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [ipv6]:port, got '" + text + "'";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      error = "expected host:port, got '" + text + "'";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) {
    error = "expected host:port with a port between 0 and 65535, got '" + text + "'";
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

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

class Loader {
 public:
  Loader(const std::string& source, const EnvLookup& env, LoadResult& result)
      : result_(result), reader_(source, env, result.errors) {
    result_.config.source = source;
  }

  void load(const YAML::Node& root) {
    if (!root || root.IsNull()) {
      reader_.error(root, "config is empty");
      return;
    }
    reader_.checkDuplicateKeys(root);
    if (!reader_.checkMap(root, "config",
                          {"server", "admin", "metrics", "drift", "profile", "access_log", "sampling", "backends", "routes"}))
      return;
    if (auto n = root["profile"]) profileBins(n);
    if (auto n = root["drift"]) drift(n);
    if (auto n = root["server"]) server(n);
    if (auto n = root["admin"]) admin(n);
    if (auto n = root["metrics"]) metrics(n);
    if (auto n = root["access_log"]) accessLog(n);
    if (auto n = root["sampling"]) sampling(n);
    if (auto n = root["backends"]) backends(n);
    else reader_.error(root, "config needs a 'backends' list");
    if (auto n = root["routes"]) routes(n);
    else reader_.error(root, "config needs a 'routes' list");
    crossChecks(root);
  }

 private:
  void server(const YAML::Node& n) {
    auto& s = result_.config.server;
    if (!reader_.checkMap(n, "server", {"listen", "workers", "drain_timeout", "busy_poll_us", "limits", "timeouts",
                                        "share_listen_address"}))
      return;
    reader_.readAddress(n, "listen", s.listen);
    reader_.readBool(n, "share_listen_address", s.share_listen_address);
    reader_.readUnsigned(n, "workers", s.workers, 1024);
    reader_.readDuration(n, "drain_timeout", s.drain_timeout);
    reader_.readUnsigned(n, "busy_poll_us", s.busy_poll_us, 1000);
    if (auto l = n["limits"]; l && reader_.checkMap(l, "server.limits",
                                                    {"max_body", "max_header", "max_connections",
                                                     "max_connections_per_client", "max_buffered_body"})) {
      reader_.readSize(l, "max_body", s.limits.max_body_bytes);
      reader_.readSize(l, "max_header", s.limits.max_header_bytes);
      reader_.readUnsigned(l, "max_connections", s.limits.max_connections, 10'000'000);
      reader_.readUnsigned(l, "max_connections_per_client", s.limits.max_connections_per_client, 10'000'000);
      reader_.readSize(l, "max_buffered_body", s.limits.max_buffered_body_bytes);
      if (s.limits.max_buffered_body_bytes < s.limits.max_body_bytes)
        reader_.error(reader_.keyOr(l, "max_buffered_body"), "server.limits.max_buffered_body must be at least max_body");
      if (s.limits.max_header_bytes < 1024) reader_.error(reader_.keyOr(l, "max_header"), "server.limits.max_header must be at least 1KiB");
      if (s.limits.max_body_bytes == 0) reader_.error(reader_.keyOr(l, "max_body"), "server.limits.max_body must be positive");
    }
    if (auto t = n["timeouts"];
        t && reader_.checkMap(t, "server.timeouts", {"header_read", "body_read", "keepalive_idle"})) {
      reader_.readDuration(t, "header_read", s.timeouts.header_read);
      reader_.readDuration(t, "body_read", s.timeouts.body_read);
      reader_.readDuration(t, "keepalive_idle", s.timeouts.keepalive_idle);
      positive(t, "server.timeouts.header_read", s.timeouts.header_read);
      positive(t, "server.timeouts.body_read", s.timeouts.body_read);
      positive(t, "server.timeouts.keepalive_idle", s.timeouts.keepalive_idle);
    }
  }

  void admin(const YAML::Node& n) {
    if (!reader_.checkMap(n, "admin", {"listen"})) return;
    reader_.readAddress(n, "listen", result_.config.admin.listen);
  }

  void metrics(const YAML::Node& n) {
    auto& m = result_.config.metrics;
    if (!reader_.checkMap(n, "metrics", {"enabled", "server_timing", "model_labels", "buckets"})) return;
    reader_.readBool(n, "enabled", m.enabled);
    reader_.readBool(n, "server_timing", m.server_timing);
    reader_.readStringList(n, "model_labels", m.model_labels);
    for (const auto& label : m.model_labels)
      if (label.empty() || label.find('*') != std::string::npos || label == "other" || label == "none")
        reader_.error(n["model_labels"], "metrics.model_labels: '" + label +
                                             "' is not a valid label (no globs, not empty, not 'other' or 'none')");
    auto b = n["buckets"];
    if (!b) return;
    if (!reader_.checkMap(b, "metrics.buckets",
                          {"request_duration", "upstream_connect", "upstream_first_byte", "time_to_first_token",
                           "inter_token_latency", "time_per_output_token", "gateway_overhead"}))
      return;
    reader_.readBounds(b, "request_duration", m.buckets.request_duration);
    reader_.readBounds(b, "upstream_connect", m.buckets.upstream_connect);
    reader_.readBounds(b, "upstream_first_byte", m.buckets.upstream_first_byte);
    reader_.readBounds(b, "time_to_first_token", m.buckets.time_to_first_token);
    reader_.readBounds(b, "inter_token_latency", m.buckets.inter_token_latency);
    reader_.readBounds(b, "time_per_output_token", m.buckets.time_per_output_token);
    reader_.readBounds(b, "gateway_overhead", m.buckets.gateway_overhead);
  }

  void profileBins(const YAML::Node& n) {
    if (!reader_.checkMap(n, "profile", {"bins"})) return;
    auto bins = n["bins"];
    if (!bins) return;
    if (!reader_.checkMap(bins, "profile.bins",
                          {"prompt_chars", "last_user_chars", "system_chars", "body_bytes", "messages", "max_tokens"}))
      return;
    for (const auto& kv : bins) {
      const std::string feature = kv.first.Scalar();
      std::vector<std::string> texts;
      reader_.readStringList(bins, feature.c_str(), texts);
      std::vector<std::uint64_t> bounds;
      for (const auto& t : texts) {
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc{} || p != t.data() + t.size() || (!bounds.empty() && v <= bounds.back())) {
          reader_.error(kv.second, "profile.bins." + feature + ": bounds must be strictly increasing integers");
          bounds.clear();
          break;
        }
        bounds.push_back(v);
      }
      const std::size_t maxBounds = feature == "max_tokens" ? 18 : 19;  // 20 bins with "absent"/overflow
      if (bounds.empty() || bounds.size() > maxBounds) {
        if (!texts.empty() && bounds.size() > maxBounds)
          reader_.error(kv.second, "profile.bins." + feature + ": at most " + std::to_string(maxBounds) + " bounds");
        if (texts.empty()) reader_.error(kv.second, "profile.bins." + feature + ": give at least one bound");
        continue;
      }
      result_.config.profile.bins[feature] = std::move(bounds);
    }
  }

  void drift(const YAML::Node& n) {
    auto& d = result_.config.drift;
    if (!reader_.checkMap(n, "drift",
                          {"enabled", "baseline_file", "learn_requests", "window", "evaluation_interval",
                           "min_window_requests", "psi_warn", "psi_alert", "ks_alert", "anomaly"}))
      return;
    reader_.readBool(n, "enabled", d.enabled);
    reader_.readString(n, "baseline_file", d.baseline_file);
    reader_.readUnsigned(n, "learn_requests", d.learn_requests, 100'000'000);
    reader_.readDuration(n, "window", d.window);
    reader_.readDuration(n, "evaluation_interval", d.evaluation_interval);
    reader_.readUnsigned(n, "min_window_requests", d.min_window_requests, 100'000'000);
    readFraction(n, "psi_warn", d.psi_warn);
    readFraction(n, "psi_alert", d.psi_alert);
    readFraction(n, "ks_alert", d.ks_alert);
    positive(n, "drift.evaluation_interval", d.evaluation_interval);
    if (d.window < d.evaluation_interval) reader_.error(reader_.keyOr(n, "window"), "drift.window must be at least drift.evaluation_interval");
    if (d.learn_requests == 0) reader_.error(reader_.keyOr(n, "learn_requests"), "drift.learn_requests must be at least 1");
    if (auto a = n["anomaly"]) anomaly(a);
  }

  void anomaly(const YAML::Node& n) {
    auto& a = result_.config.drift.anomaly;
    if (!reader_.checkMap(n, "drift.anomaly", {"features", "rare_share", "min_features"})) return;
    reader_.readStringList(n, "features", a.features);
    readFraction(n, "rare_share", a.rare_share);
    reader_.readUnsigned(n, "min_features", a.min_features, static_cast<unsigned>(kProfileFeatureNames.size()));
    std::size_t checked = kProfileFeatureNames.size();
    if (!a.features.empty()) {
      a.feature_mask = 0;
      for (const auto& name : a.features) {
        const auto f = profileFeatureIndex(name);
        if (f == kProfileFeatureNames.size())
          reader_.error(n["features"], "drift.anomaly.features: unknown feature '" + name + "'");
        else
          a.feature_mask |= 1u << f;
      }
      checked = static_cast<std::size_t>(std::popcount(a.feature_mask));
    }
    // Every bin of a feature below the share would leave nothing "seen"; 20 bins at most hold 5% each.
    if (a.rare_share >= 0.05) reader_.error(n["rare_share"], "drift.anomaly.rare_share must be below 0.05");
    if (a.min_features == 0 || a.min_features > std::max<std::size_t>(checked, 1))
      reader_.error(n["min_features"] ? n["min_features"] : n,
                    "drift.anomaly.min_features must be between 1 and the number of checked features (" +
                        std::to_string(checked) + ")");
  }

  void accessLog(const YAML::Node& n) {
    auto& a = result_.config.access_log;
    if (!reader_.checkMap(n, "access_log", {"enabled", "path"})) return;
    reader_.readBool(n, "enabled", a.enabled);
    reader_.readString(n, "path", a.path);
    if (a.path.empty()) reader_.error(reader_.keyOr(n, "path"), "access_log.path must not be empty");
  }

  void sampling(const YAML::Node& n) {
    auto& s = result_.config.sampling;
    if (!reader_.checkMap(n, "sampling",
                          {"enabled", "rate", "always", "max_per_minute", "burst", "capture_bytes", "queue", "memory",
                           "feedback", "scorers", "redact", "sink", "judge"}))
      return;
    reader_.readBool(n, "enabled", s.enabled);
    readFraction(n, "rate", s.rate);
    reader_.readUnsigned(n, "max_per_minute", s.max_per_minute, 100'000'000);
    reader_.readUnsigned(n, "burst", s.burst, 100'000'000);
    reader_.readSize(n, "capture_bytes", s.capture_bytes);
    reader_.readUnsigned(n, "queue", s.queue, 1'000'000);
    reader_.readUnsigned(n, "memory", s.memory, 100'000);
    if (s.capture_bytes < 256 || s.capture_bytes > 16 * 1024 * 1024)
      reader_.error(n["capture_bytes"] ? n["capture_bytes"] : n, "sampling.capture_bytes must be between 256B and 16MiB");
    if (s.queue == 0) reader_.error(n["queue"], "sampling.queue must be at least 1");
    if (s.burst > s.max_per_minute) reader_.error(n["burst"], "sampling.burst must not exceed sampling.max_per_minute");
    if (auto a = n["always"]; a && reader_.checkMap(a, "sampling.always", {"errors", "anomalies", "slow_first_token"})) {
      reader_.readBool(a, "errors", s.always_errors);
      reader_.readBool(a, "anomalies", s.always_anomalies);
      reader_.readDuration(a, "slow_first_token", s.slow_first_token);
    }
    if (auto f = n["feedback"]; f && reader_.checkMap(f, "sampling.feedback", {"remember", "window"})) {
      reader_.readUnsigned(f, "remember", s.remember, 10'000'000);
      reader_.readUnsigned(f, "window", s.feedback_window, 10'000'000);
      if (s.feedback_window == 0) reader_.error(reader_.keyOr(f, "window"), "sampling.feedback.window must be at least 1");
    }
    if (auto c = n["scorers"];
        c && reader_.checkMap(c, "sampling.scorers", {"refusal_phrases", "max_compression_ratio"})) {
      reader_.readStringList(c, "refusal_phrases", s.refusal_phrases);
      if (auto r = c["max_compression_ratio"]) {
        std::string text;
        if (reader_.scalar(r, "max_compression_ratio", text)) {
          char* end = nullptr;
          s.max_compression_ratio = std::strtod(text.c_str(), &end);
          if (text.empty() || end != text.c_str() + text.size() || !(s.max_compression_ratio > 1))
            reader_.error(r, "max_compression_ratio must be a number above 1, got '" + text + "'");
        }
      }
    }
    if (auto r = n["redact"]; r && reader_.checkMap(r, "sampling.redact", {"prompt", "prompt_chars", "patterns"})) {
      if (auto p = r["prompt"]) {
        std::string text;
        if (reader_.scalar(p, "prompt", text)) {
          if (text == "none") s.prompt = SamplingConfig::PromptPolicy::None;
          else if (text == "truncated") s.prompt = SamplingConfig::PromptPolicy::Truncated;
          else if (text == "hashed") s.prompt = SamplingConfig::PromptPolicy::Hashed;
          else reader_.error(p, "sampling.redact.prompt must be none, truncated or hashed, got '" + text + "'");
        }
      }
      reader_.readSize(r, "prompt_chars", s.prompt_chars);
      reader_.readStringList(r, "patterns", s.redact_patterns);
      for (std::size_t i = 0; i < s.redact_patterns.size(); ++i) {
        // RE2 syntax, as the sampler compiles them (filters/quality/redaction.cpp).
        re2::RE2::Options options;
        options.set_log_errors(false);
        if (re2::RE2 check(s.redact_patterns[i], options); !check.ok())
          reader_.error(r["patterns"][i], "invalid redaction pattern '" + s.redact_patterns[i] + "': " + check.error());
      }
    }
    if (auto k = n["sink"]; k && reader_.checkMap(k, "sampling.sink", {"path", "max_bytes", "keep"})) {
      reader_.readString(k, "path", s.sink_path);
      reader_.readSize(k, "max_bytes", s.sink_max_bytes);
      reader_.readUnsigned(k, "keep", s.sink_keep, 100);
      if (s.sink_max_bytes < 4096) reader_.error(reader_.keyOr(k, "max_bytes"), "sampling.sink.max_bytes must be at least 4KiB");
    }
    if (auto j = n["judge"]) judge(j);
  }

  void judge(const YAML::Node& n) {
    auto& j = result_.config.sampling.judge;
    if (!reader_.checkMap(n, "sampling.judge",
                          {"enabled", "backend", "model", "fraction", "rubric", "max_concurrency", "max_tokens",
                           "timeout", "bad_below"}))
      return;
    j.enabled = true;
    reader_.readBool(n, "enabled", j.enabled);
    reader_.readString(n, "backend", j.backend);
    reader_.readString(n, "model", j.model);
    readFraction(n, "fraction", j.fraction);
    reader_.readString(n, "rubric", j.rubric);
    reader_.readUnsigned(n, "max_concurrency", j.max_concurrency, 10'000);
    reader_.readUnsigned(n, "max_tokens", j.max_tokens, 100'000);
    reader_.readDuration(n, "timeout", j.timeout);
    reader_.readUnsigned(n, "bad_below", j.bad_below, 6);
    if (j.enabled) {
      if (j.backend.empty()) reader_.error(n, "sampling.judge needs a 'backend'");
      if (j.model.empty()) reader_.error(n, "sampling.judge needs a 'model'");
      if (j.max_concurrency == 0) reader_.error(reader_.keyOr(n, "max_concurrency"), "sampling.judge.max_concurrency must be at least 1");
      if (j.max_tokens == 0) reader_.error(reader_.keyOr(n, "max_tokens"), "sampling.judge.max_tokens must be at least 1");
      positive(n, "sampling.judge.timeout", j.timeout);
      judgeNode_ = n;
    }
  }

  // `what` ends with the key in `map` ("server.timeouts.header_read"): the
  // error points at that key.
  void positive(const YAML::Node& map, const std::string& what, Duration d) {
    if (d.count() > 0) return;
    const std::string key = what.substr(what.rfind('.') + 1);
    reader_.error(reader_.keyOr(map, key.c_str()), what + " must be greater than 0");
  }

  void backends(const YAML::Node& n) {
    if (!reader_.checkSequence(n, "backends")) return;
    if (n.size() == 0) reader_.error(n, "backends must list at least one backend");
    for (const auto& b : n) backend(b);
  }

  void backend(const YAML::Node& n) {
    BackendConfig b;
    if (!reader_.checkMap(n, "backend",
                          {"name", "endpoints", "headers", "timeouts", "pool", "inject_stream_usage", "load_balancing",
                           "circuit_breaker", "retry", "limits", "health_check"}))
      return;
    if (auto lb = n["load_balancing"]) {
      std::string text;
      if (reader_.scalar(lb, "load_balancing", text)) {
        if (text == "round_robin") b.load_balancing = LoadBalancing::RoundRobin;
        else if (text == "least_request") b.load_balancing = LoadBalancing::LeastRequest;
        else if (text == "weighted") b.load_balancing = LoadBalancing::Weighted;
        else reader_.error(lb, "load_balancing must be round_robin, least_request or weighted, got '" + text + "'");
      }
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
    reader_.readString(n, "name", b.name);
    reader_.readBool(n, "inject_stream_usage", b.inject_stream_usage);
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
    result_.config.backends.push_back(std::move(b));
  }

  void circuitBreaker(const YAML::Node& n, CircuitBreakerConfig& c) {
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

  void retry(const YAML::Node& n, RetryConfig& r) {
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

  void readFraction(const YAML::Node& map, const char* key, double& out) {
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

  void readStatuses(const YAML::Node& map, const char* key, std::vector<unsigned>& out) {
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

  void endpoint(const YAML::Node& n, BackendConfig& b) {
    if (!reader_.checkMap(n, "endpoint", {"url", "weight"})) return;
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
    if (parsed->scheme() != "http") {
      reader_.error(n["url"], "endpoint url '" + url + "': only http:// upstreams are supported");
      return;
    }
    if (!parsed->has_port() || parsed->port_number() == 0) {
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
    e.address = Address{host, parsed->port_number()};
    b.endpoints.push_back(std::move(e));
  }

  void headers(const YAML::Node& n, BackendConfig& b) {
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

  void routes(const YAML::Node& n) {
    if (!reader_.checkSequence(n, "routes")) return;
    if (n.size() == 0) reader_.error(n, "routes must list at least one route");
    for (const auto& r : n) route(r);
  }

  void route(const YAML::Node& n) {
    RouteConfig r;
    if (!reader_.checkMap(n, "route", {"name", "path_prefix", "models", "backend", "fallbacks", "rename_model", "validation",
                                        "sample_rate"}))
      return;
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

  void crossChecks(const YAML::Node& root) {
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

  LoadResult& result_;
  YamlReader reader_;
  unsigned e_weight_ = 1;  // the weight read for the endpoint being parsed
  std::vector<YAML::Node> routeNodes_;
  YAML::Node judgeNode_;
};

}  // namespace

LoadResult loadString(const std::string& yaml, const std::string& source, const EnvLookup& env) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    result.errors.push_back(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                            ": " + e.msg);
    return result;
  }
  try {
    Loader(source, env, result).load(root);
  } catch (const YAML::Exception& e) {
    result.errors.push_back(source + ": " + e.what());
  }
  return result;
}

LoadResult loadFile(const std::string& path, const EnvLookup& env) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[8192];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  } else {
    LoadResult result;
    result.errors.push_back(path + ": cannot open config file");
    return result;
  }
  return loadString(text, path, env);
}

}  // namespace infergate::config
