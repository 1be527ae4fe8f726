// Config sections other than backends and routes.
#include <boost/url/parse.hpp>
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <re2/re2.h>
#include <set>

#include "config/api_key_digest.hpp"
#include "config/profile_features.hpp"
#include "config/section_loader.hpp"

namespace infergate::config {

void SectionLoader::load(const YAML::Node& root) {
  if (!root || root.IsNull()) {
    reader_.error(root, "config is empty");
    return;
  }
  reader_.checkDuplicateKeys(root);
  if (!reader_.checkMap(root, "config",
                        {"server", "admin", "auth", "rate_limits", "metrics", "drift", "diagnosis", "profile",
                         "access_log", "log", "sampling", "backends", "routes"}))
    return;
  if (auto n = root["profile"]) profileBins(n);
  if (auto n = root["drift"]) drift(n);
  if (auto n = root["diagnosis"]) diagnosis(n);
  if (auto n = root["server"]) server(n);
  if (auto n = root["admin"]) admin(n);
  if (auto n = root["metrics"]) metrics(n);
  if (auto n = root["access_log"]) accessLog(n);
  if (auto n = root["log"]) logging(n);
  if (auto n = root["sampling"]) sampling(n);
  if (auto n = root["backends"]) backends(n);
  else reader_.error(root, "config needs a 'backends' list");
  if (auto n = root["routes"]) routes(n);
  else reader_.error(root, "config needs a 'routes' list");
  if (auto n = root["auth"]) auth(n);
  if (auto n = root["rate_limits"]) rateLimits(n);
  crossChecks(root);
  authChecks();
}

void SectionLoader::server(const YAML::Node& n) {
  auto& s = result_.config.server;
  if (!reader_.checkMap(n, "server", {"listen", "workers", "drain_delay", "drain_timeout", "busy_poll_us", "batch_sends", "batch_receives", "limits", "timeouts",
                                      "share_listen_address", "trusted_proxies", "tls", "max_endpoints", "memory_trim"}))
    return;
  if (auto t = n["tls"]; t && reader_.checkMap(t, "server.tls", {"listen", "cert_file", "key_file", "handshake_timeout"})) {
    s.tls.enabled = true;
    reader_.readAddress(t, "listen", s.tls.listen);
    reader_.readString(t, "cert_file", s.tls.cert_file);
    reader_.readString(t, "key_file", s.tls.key_file);
    reader_.readDuration(t, "handshake_timeout", s.tls.handshake_timeout);
    if (s.tls.cert_file.empty() || s.tls.key_file.empty())
      reader_.error(t, "server.tls needs cert_file and key_file (PEM)");
    positive(t, "server.tls.handshake_timeout", s.tls.handshake_timeout);
  }
  std::vector<std::string> proxies;
  reader_.readStringList(n, "trusted_proxies", proxies);
  for (const auto& p : proxies) {
    if (auto cidr = config::parseCidr(p)) s.trusted_proxies.push_back(*cidr);
    else reader_.error(n["trusted_proxies"], "server.trusted_proxies: '" + p + "' is not an address or CIDR range");
  }
  reader_.readAddress(n, "listen", s.listen);
  reader_.readBool(n, "share_listen_address", s.share_listen_address);
  reader_.readUnsigned(n, "workers", s.workers, 1024);
  reader_.readDuration(n, "drain_delay", s.drain_delay);
  reader_.readDuration(n, "drain_timeout", s.drain_timeout);
  reader_.readUnsigned(n, "busy_poll_us", s.busy_poll_us, 1000);
  reader_.readBool(n, "batch_sends", s.batch_sends);
  reader_.readBool(n, "batch_receives", s.batch_receives);
  reader_.readUnsigned(n, "max_endpoints", s.max_endpoints, 65'536);
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
  if (auto m = n["memory_trim"]; m && reader_.checkMap(m, "server.memory_trim", {"enabled", "interval", "min_free"})) {
    reader_.readBool(m, "enabled", s.memory_trim.enabled);
    reader_.readDuration(m, "interval", s.memory_trim.interval);
    reader_.readSize(m, "min_free", s.memory_trim.min_free);
    positive(m, "server.memory_trim.interval", s.memory_trim.interval);
    if (s.memory_trim.min_free < (64u << 10))
      reader_.error(reader_.keyOr(m, "min_free"), "server.memory_trim.min_free must be at least 64KiB");
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

void SectionLoader::admin(const YAML::Node& n) {
  if (!reader_.checkMap(n, "admin", {"listen", "token", "protect_reads", "metrics_open"})) return;
  auto& a = result_.config.admin;
  reader_.readAddress(n, "listen", a.listen);
  std::string token;
  reader_.readString(n, "token", token);
  if (n["token"] && token.size() < 16) reader_.error(n["token"], "admin.token must be at least 16 characters");
  if (!token.empty()) a.token_digest = sha256(token);
  reader_.readBool(n, "protect_reads", a.protect_reads);
  reader_.readBool(n, "metrics_open", a.metrics_open);
  if (a.protect_reads && !a.token_digest) reader_.error(n["protect_reads"], "admin.protect_reads needs admin.token");
}

void SectionLoader::metrics(const YAML::Node& n) {
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
                        {"per_octave", "request_duration", "upstream_connect", "upstream_first_byte",
                         "time_to_first_token", "inter_token_latency", "time_per_output_token", "gateway_overhead"}))
    return;
  // First the ladders' density (fewer bounds, fewer series, a coarser read),
  // then any histogram given explicit bounds.
  if (b["per_octave"]) {
    unsigned perOctave = 0;
    reader_.readUnsigned(b, "per_octave", perOctave, 16);
    if (perOctave == 0) reader_.error(b["per_octave"], "metrics.buckets.per_octave must be 1 to 16");
    else m.buckets.useLadders(perOctave);
  }
  reader_.readBounds(b, "request_duration", m.buckets.request_duration);
  reader_.readBounds(b, "upstream_connect", m.buckets.upstream_connect);
  reader_.readBounds(b, "upstream_first_byte", m.buckets.upstream_first_byte);
  reader_.readBounds(b, "time_to_first_token", m.buckets.time_to_first_token);
  reader_.readBounds(b, "inter_token_latency", m.buckets.inter_token_latency);
  reader_.readBounds(b, "time_per_output_token", m.buckets.time_per_output_token);
  reader_.readBounds(b, "gateway_overhead", m.buckets.gateway_overhead);
}

void SectionLoader::profileBins(const YAML::Node& n) {
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

void SectionLoader::drift(const YAML::Node& n) {
  auto& d = result_.config.drift;
  if (!reader_.checkMap(n, "drift",
                        {"enabled", "baseline_file", "learn_requests", "window", "evaluation_interval",
                         "min_window_requests", "psi_warn", "psi_alert", "ks_alert", "anomaly", "multivariate"}))
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
  if (auto m = n["multivariate"]) {
    if (reader_.checkMap(m, "drift.multivariate", {"enabled", "threshold"})) {
      reader_.readBool(m, "enabled", d.multivariate.enabled);
      readFraction(m, "threshold", d.multivariate.threshold);
      if (d.multivariate.threshold <= 0.5)
        reader_.error(m["threshold"], "drift.multivariate.threshold must be above 0.5 (a rank among the baseline)");
    }
  }
}

void SectionLoader::diagnosis(const YAML::Node& n) {
  auto& d = result_.config.diagnosis;
  if (!reader_.checkMap(n, "diagnosis", {"enabled", "window", "interval"})) return;
  reader_.readBool(n, "enabled", d.enabled);
  reader_.readDuration(n, "window", d.window);
  reader_.readDuration(n, "interval", d.interval);
  positive(n, "diagnosis.interval", d.interval);
  if (d.window < d.interval) reader_.error(reader_.keyOr(n, "window"), "diagnosis.window must be at least diagnosis.interval");
  // The monitor keeps a snapshot per interval over the window: bounded.
  else if (d.interval.count() > 0 && d.window.count() / d.interval.count() > 600)
    reader_.error(reader_.keyOr(n, "interval"), "diagnosis.window may span at most 600 intervals");
}

void SectionLoader::anomaly(const YAML::Node& n) {
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

void SectionLoader::logging(const YAML::Node& n) {
  if (!reader_.checkMap(n, "log", {"level"})) return;
  std::string level;
  reader_.readString(n, "level", level);
  if (level.empty()) return;
  static constexpr std::pair<std::string_view, LogConfig::Level> kLevels[] = {
      {"debug", LogConfig::Level::Debug}, {"info", LogConfig::Level::Info},
      {"warn", LogConfig::Level::Warn},   {"error", LogConfig::Level::Error}};
  for (const auto& [name, value] : kLevels)
    if (level == name) {
      result_.config.log.level = value;
      return;
    }
  reader_.error(n["level"], "log.level must be debug, info, warn or error, not '" + level + "'");
}

void SectionLoader::accessLog(const YAML::Node& n) {
  auto& a = result_.config.access_log;
  if (!reader_.checkMap(n, "access_log", {"enabled", "path", "max_bytes", "keep"})) return;
  reader_.readBool(n, "enabled", a.enabled);
  reader_.readString(n, "path", a.path);
  reader_.readSize(n, "max_bytes", a.max_bytes);
  reader_.readUnsigned(n, "keep", a.keep, 100);
  if (a.max_bytes > 0 && a.max_bytes < 4096)
    reader_.error(reader_.keyOr(n, "max_bytes"), "access_log.max_bytes must be 0 (never rotate) or at least 4KiB");
  if (a.path.empty()) reader_.error(reader_.keyOr(n, "path"), "access_log.path must not be empty");
}

void SectionLoader::sampling(const YAML::Node& n) {
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
    if (auto r = c["refusal_phrases"]; r && r.IsMap()) {
      for (const auto& entry : r) {
        const auto language = entry.first.as<std::string>();
        std::vector<std::string> phrases;
        reader_.readStringList(r, language.c_str(), phrases);
        s.refusal_phrases_by_language.emplace_back(language, std::move(phrases));
      }
    } else {
      reader_.readStringList(c, "refusal_phrases", s.refusal_phrases);
    }
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

void SectionLoader::judge(const YAML::Node& n) {
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
void SectionLoader::positive(const YAML::Node& map, const std::string& what, Duration d) {
  if (d.count() > 0) return;
  const std::string key = what.substr(what.rfind('.') + 1);
  reader_.error(reader_.keyOr(map, key.c_str()), what + " must be greater than 0");
}

}  // namespace infergate::config
