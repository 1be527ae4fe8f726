#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <map>

#include "config/api_key_digest.hpp"

using namespace infergate::config;

namespace {

EnvLookup env(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const char* kValid = R"(server:
  listen: 0.0.0.0:8081
  workers: 3
  drain_timeout: 5s
  busy_poll_us: 20
  batch_sends: false
  batch_receives: false
  memory_trim: {enabled: false, interval: 30s, min_free: 16MiB}
  limits:
    max_body: 2MiB
    max_header: 32KiB
  timeouts:
    header_read: 3s
    body_read: 4s
    keepalive_idle: 1m
admin:
  listen: 127.0.0.1:9191
backends:
  - name: a
    endpoints:
      - url: http://127.0.0.1:8001
      - url: http://[::1]:8002
    headers:
      Authorization: Bearer ${KEY}
    timeouts: {connect: 250ms, first_token: 20s, idle: 15s, total: 5m}
    pool: {max_idle: 8, idle_ttl: 30s}
routes:
  - name: chat
    path_prefix: /v1/chat
    models: ["llama-*", gpt-4o]
    backend: a
    rename_model: meta/llama
)";

// Loads `yaml` and returns its errors joined by newlines.
std::string errorsOf(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
  auto r = loadString(yaml, "test.yaml", env(vars));
  std::string all;
  for (auto& e : r.errors) all += e + "\n";
  return all;
}

std::string minimal(const std::string& backendExtra = "", const std::string& routeExtra = "") {
  return "backends:\n  - name: a\n    endpoints:\n      - url: http://127.0.0.1:8001\n" + backendExtra +
         "routes:\n  - name: r\n    backend: a\n" + routeExtra;
}

}  // namespace

TEST(ConfigLoader, LoadsEverySetting) {
  auto r = loadString(kValid, "test.yaml", env({{"KEY", "sk-secret"}}));
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& c = r.config;
  EXPECT_EQ(c.server.listen.host, "0.0.0.0");
  EXPECT_EQ(c.server.listen.port, 8081);
  EXPECT_EQ(c.server.workers, 3u);
  EXPECT_EQ(c.server.drain_timeout.count(), 5000);
  EXPECT_EQ(c.server.busy_poll_us, 20u);
  EXPECT_FALSE(c.server.batch_sends);
  EXPECT_FALSE(c.server.batch_receives);
  EXPECT_FALSE(c.server.memory_trim.enabled);
  EXPECT_EQ(c.server.memory_trim.interval.count(), 30000);
  EXPECT_EQ(c.server.memory_trim.min_free, 16u * 1024 * 1024);
  EXPECT_EQ(c.server.limits.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.server.limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.server.timeouts.header_read.count(), 3000);
  EXPECT_EQ(c.server.timeouts.body_read.count(), 4000);
  EXPECT_EQ(c.server.timeouts.keepalive_idle.count(), 60000);
  EXPECT_EQ(c.admin.listen.port, 9191);
  ASSERT_EQ(c.backends.size(), 1u);
  const auto& b = c.backends[0];
  ASSERT_EQ(b.endpoints.size(), 2u);
  EXPECT_EQ(b.endpoints[1].address.host, "::1");
  EXPECT_EQ(b.endpoints[1].address.authority(), "[::1]:8002");
  ASSERT_EQ(b.headers.size(), 1u);
  EXPECT_EQ(b.headers[0].value, "Bearer sk-secret");
  EXPECT_EQ(b.timeouts.connect.count(), 250);
  EXPECT_EQ(b.timeouts.first_token.count(), 20000);
  EXPECT_EQ(b.timeouts.idle.count(), 15000);
  EXPECT_EQ(b.timeouts.total.count(), 300000);
  EXPECT_EQ(b.pool.max_idle_per_endpoint, 8u);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].models, (std::vector<std::string>{"llama-*", "gpt-4o"}));
  EXPECT_EQ(c.routes[0].rename_model, "meta/llama");
  EXPECT_EQ(c.routes[0].backend_index, 0u);
}

TEST(ConfigLoader, AppliesDocumentedDefaults) {
  auto r = loadString(minimal(), "t.yaml", env());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config.server.listen.port, 8080);
  EXPECT_EQ(r.config.server.workers, 0u);
  EXPECT_EQ(r.config.server.busy_poll_us, 50u);
  EXPECT_TRUE(r.config.server.batch_sends);
  EXPECT_TRUE(r.config.server.batch_receives);
  EXPECT_TRUE(r.config.server.memory_trim.enabled);
  EXPECT_EQ(r.config.server.memory_trim.interval.count(), 10000);
  EXPECT_EQ(r.config.server.memory_trim.min_free, 8u * 1024 * 1024);
  EXPECT_EQ(r.config.server.limits.max_body_bytes, 8u * 1024 * 1024);
  EXPECT_EQ(r.config.admin.listen.host, "127.0.0.1");
  EXPECT_EQ(r.config.routes[0].path_prefix, "/");
  EXPECT_EQ(r.config.backends[0].timeouts.first_token.count(), 60000);
}

TEST(ConfigLoader, UnknownKeyReportsPosition) {
  EXPECT_EQ(errorsOf("server:\n  listen: 0.0.0.0:1\n  wrokers: 2\n" + minimal()),
            "test.yaml:3:3: unknown key 'wrokers' in server (expected one of: listen, workers, drain_delay, drain_timeout, "
            "busy_poll_us, batch_sends, batch_receives, limits, timeouts, share_listen_address, trusted_proxies, tls, max_endpoints, memory_trim)\n");
}

TEST(ConfigLoader, MemoryTrimIsChecked) {
  EXPECT_EQ(errorsOf("server:\n  memory_trim: {interval: 0s}\n" + minimal()),
            "test.yaml:2:27: server.memory_trim.interval must be greater than 0\n");
  EXPECT_EQ(errorsOf("server:\n  memory_trim: {min_free: 1KiB}\n" + minimal()),
            "test.yaml:2:27: server.memory_trim.min_free must be at least 64KiB\n");
  EXPECT_EQ(errorsOf("server:\n  memory_trim: {every: 5s}\n" + minimal()),
            "test.yaml:2:17: unknown key 'every' in server.memory_trim (expected one of: enabled, interval, min_free)\n");
}

TEST(ConfigLoader, WrongTypesReportPosition) {
  EXPECT_EQ(errorsOf("server:\n  workers: many\n" + minimal()),
            "test.yaml:2:12: workers must be an integer between 0 and 1024, got 'many'\n");
  EXPECT_EQ(errorsOf("server: [1, 2]\n" + minimal()), "test.yaml:1:9: server must be a mapping\n");
  EXPECT_EQ(errorsOf("server:\n  busy_poll_us: 5000\n" + minimal()),
            "test.yaml:2:17: busy_poll_us must be an integer between 0 and 1000, got '5000'\n");
  EXPECT_EQ(errorsOf("server:\n  drain_timeout: 10\n" + minimal()),
            "test.yaml:2:18: drain_timeout must be a duration such as 250ms, 30s, 5m or 1h, got '10'\n");
  EXPECT_EQ(errorsOf("server:\n  limits:\n    max_body: lots\n" + minimal()),
            "test.yaml:3:15: max_body must be a size such as 512, 16KiB or 8MiB, got 'lots'\n");
  EXPECT_EQ(errorsOf("server:\n  listen: nowhere\n" + minimal()),
            "test.yaml:2:11: listen: expected host:port, got 'nowhere'\n");
  EXPECT_EQ(errorsOf("server:\n  listen: h:70000\n" + minimal()),
            "test.yaml:2:11: listen: expected host:port with a port between 0 and 65535, got 'h:70000'\n");
  EXPECT_EQ(errorsOf("backends: {}\nroutes: []\n"),
            "test.yaml:1:11: backends must be a list\ntest.yaml:2:9: routes must list at least one route\n");
}

TEST(ConfigLoader, HttpsEndpointsDefaultTo443AndInsecureIsAWarning) {
  const auto r = loadString("backends:\n  - name: a\n    endpoints:\n      - url: https://api.example.com\n"
                            "      - url: https://[::1]:8443\n"
                            "    tls: {ca_file: /etc/ca.pem, server_name: api.internal, insecure_skip_verify: true}\n"
                            "routes:\n  - name: r\n    backend: a\n",
                            "tls.yaml");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& b = r.config.backends[0];
  EXPECT_TRUE(b.endpoints[0].tls);
  EXPECT_EQ(b.endpoints[0].address.port, 443);
  EXPECT_EQ(b.endpoints[1].address.host, "::1");
  EXPECT_EQ(b.endpoints[1].address.port, 8443);
  EXPECT_EQ(b.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(b.tls.server_name, "api.internal");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "tls.yaml:6:10: backend 'a': tls.insecure_skip_verify is set: its certificates are not verified");
}

TEST(ConfigLoader, SemanticErrors) {
  EXPECT_NE(errorsOf(minimal("", "    rename_model: \"\"\n")).find("rename_model must not be empty"),
            std::string::npos);
  EXPECT_EQ(errorsOf("backends:\n  - name: a\n    endpoints:\n      - url: ftp://api.example.com:21\n"
                     "routes:\n  - name: r\n    backend: a\n"),
            "test.yaml:4:14: endpoint url 'ftp://api.example.com:21': the scheme must be http:// or https://\n");
  EXPECT_NE(errorsOf("backends:\n  - name: a\n    endpoints:\n      - url: https://api.example.com\n"
                     "    tls: {cert_file: c.pem}\n"
                     "routes:\n  - name: r\n    backend: a\n")
                .find("needs both cert_file and key_file"),
            std::string::npos);
  EXPECT_EQ(errorsOf("backends:\n  - name: a\n    endpoints:\n      - url: http://h\n"
                     "routes:\n  - name: r\n    backend: a\n"),
            "test.yaml:4:14: endpoint url 'http://h' needs an explicit non-zero port\n");
  EXPECT_EQ(errorsOf("backends:\n  - name: a\n    endpoints:\n      - url: http://h:1/v1\n"
                     "routes:\n  - name: r\n    backend: a\n"),
            "test.yaml:4:14: endpoint url 'http://h:1/v1' must not have a path or query\n");
  EXPECT_EQ(errorsOf("backends:\n  - name: a\n    endpoints: []\nroutes:\n  - name: r\n    backend: a\n"),
            "test.yaml:3:16: backend 'a' must list at least one endpoint\n");
  EXPECT_EQ(errorsOf(minimal("", "").replace(minimal().find("backend: a"), 10, "backend: zz")),
            "test.yaml:7:14: route 'r' names unknown backend 'zz'\n");
  EXPECT_EQ(errorsOf(minimal("", "  - name: r\n    backend: a\n")), "test.yaml:8:5: duplicate route name 'r'\n");
  EXPECT_EQ(errorsOf(minimal("", "  - name: feedback\n    backend: a\n")),
            "test.yaml:8:11: route name 'feedback' is reserved (metrics label requests no route takes 'none' and the "
            "gateway's own endpoints 'feedback')\n");
  EXPECT_EQ(errorsOf(minimal("    headers:\n      Content-Length: 5\n")),
            "test.yaml:6:7: header 'Content-Length' is managed by the gateway and cannot be injected\n");
  EXPECT_EQ(errorsOf(minimal("    headers:\n      Bad Name: x\n")), "test.yaml:6:7: invalid header name 'Bad Name'\n");
  EXPECT_EQ(errorsOf(minimal("", "    path_prefix: v1\n")), "test.yaml:8:18: route 'r': path_prefix must start with '/'\n");
  EXPECT_EQ(errorsOf("server:\n  limits:\n    max_header: 100\n" + minimal()),
            "test.yaml:3:17: server.limits.max_header must be at least 1KiB\n");
  EXPECT_EQ(errorsOf("server:\n  timeouts:\n    header_read: 0s\n" + minimal()),
            "test.yaml:3:18: server.timeouts.header_read must be greater than 0\n");
  EXPECT_EQ(errorsOf("server:\n  listen: 127.0.0.1:9090\n" + minimal()),
            "test.yaml:1:1: admin.listen must differ from server.listen\n");
}

TEST(ConfigLoader, MissingEnvironmentVariableIsAnErrorAndNeverLeaksOtherValues) {
  auto errors = errorsOf(minimal("    headers:\n      Authorization: Bearer ${NOPE_KEY}\n"));
  EXPECT_EQ(errors, "test.yaml:6:22: header Authorization: environment variable NOPE_KEY is not set\n");
}

// A value from the environment may be a secret: an error about it shows the
// file's ${VAR}, never the value, wherever the message would have quoted it.
TEST(ConfigLoader, ErrorsNeverShowValuesFromTheEnvironment) {
  const std::map<std::string, std::string> vars = {{"UPSTREAM_KEY", "sk-live-0123456789abcdef"}, {"SHORT", "abc"}};
  auto errors = errorsOf("server:\n  workers: ${UPSTREAM_KEY}\n  drain_timeout: ${SHORT}\n" + minimal(), vars);
  EXPECT_EQ(errors,
            "test.yaml:2:12: workers must be an integer between 0 and 1024, got '${UPSTREAM_KEY}'\n"
            "test.yaml:3:18: drain_timeout must be a duration such as 250ms, 30s, 5m or 1h, got '${SHORT}'\n");
  // Inside a longer value, and in messages that name it without quotes.
  errors = errorsOf(minimal("    load_balancing: x${UPSTREAM_KEY}\n", "    rename_model: \"${UPSTREAM_KEY}\\\"\"\n"), vars);
  EXPECT_EQ(errors.find("0123456789abcdef"), std::string::npos) << errors;
  EXPECT_NE(errors.find("${UPSTREAM_KEY}"), std::string::npos) << errors;
  // A value read earlier inside a longer one read later (found by fuzz_config):
  // the key is still masked.
  errors = errorsOf("server:\n  listen: 127.0.0.1:${PORT}\n  workers: '${UPSTREAM_KEY} at 127.0.0.1:${PORT}'\n" + minimal(),
                    {{"UPSTREAM_KEY", "sk-live-0123456789abcdef"}, {"PORT", "8000"}});
  EXPECT_EQ(errors.find("0123456789abcdef"), std::string::npos) << errors;
}

// yaml-cpp keeps one of two equal keys silently; the loader names both.
TEST(ConfigLoader, DuplicateKeysAreRefusedWithBothPositions) {
  EXPECT_EQ(errorsOf("server:\n  workers: 1\n  workers: 2\n" + minimal()),
            "test.yaml:3:3: duplicate key 'workers' (first at line 2, column 3)\n");
  auto nested = errorsOf(minimal("    headers:\n      X-A: a\n      X-A: b\n"));
  EXPECT_EQ(nested, "test.yaml:7:7: duplicate key 'X-A' (first at line 6, column 7)\n");
  EXPECT_NE(errorsOf(minimal() + "routes: []\n").find("duplicate key 'routes' (first at line 5, column 1)"),
            std::string::npos);
}

// Each error points at the key it is about, not at its section's first key.
TEST(ConfigLoader, ErrorsPointAtTheirOwnKey) {
  EXPECT_EQ(errorsOf("server:\n  limits:\n    max_body: 1MiB\n    max_header: 0\n" + minimal()),
            "test.yaml:4:17: server.limits.max_header must be at least 1KiB\n");
  EXPECT_EQ(errorsOf(minimal("    retry: {backoff_base: 10ms, max_attempts: 0}\n")),
            "test.yaml:5:47: retry.max_attempts must be at least 1 (1 = no retries)\n");
  EXPECT_EQ(errorsOf("server:\n  timeouts:\n    header_read: 1s\n    body_read: 0s\n" + minimal()),
            "test.yaml:4:16: server.timeouts.body_read must be greater than 0\n");
}

TEST(ConfigLoader, HeaderValueWithLineBreakIsRejectedWithoutEchoingIt) {
  auto errors = errorsOf(minimal("    headers:\n      X-Key: \"sk-abc\\r\\nEvil: 1\"\n"));
  EXPECT_NE(errors.find("value contains a line break"), std::string::npos);
  EXPECT_EQ(errors.find("sk-abc"), std::string::npos);
}

TEST(ConfigLoader, MissingSectionsAndEmptyFile) {
  EXPECT_EQ(errorsOf(""), "test.yaml: config is empty\n");
  EXPECT_EQ(errorsOf("server: {}\n"),
            "test.yaml:1:1: config needs a 'backends' list\ntest.yaml:1:1: config needs a 'routes' list\n");
}

TEST(ConfigLoader, YamlSyntaxErrorHasPosition) {
  auto errors = errorsOf("server:\n  listen: [unclosed\n");
  EXPECT_EQ(errors.rfind("test.yaml:", 0), 0u) << errors;
  EXPECT_NE(errors.find(":3:"), std::string::npos) << errors;
}

TEST(ConfigLoader, ReportsEveryErrorAtOnce) {
  auto r = loadString("server:\n  workers: x\n  bogus: 1\nbackends: []\nroutes: []\n", "t.yaml", env());
  EXPECT_EQ(r.errors.size(), 4u);
}

TEST(ConfigLoader, MissingFile) {
  auto r = loadFile("/nonexistent/infergate.yaml", env());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "/nonexistent/infergate.yaml: cannot open config file");
}

TEST(ConfigLoader, ShippedExamplesAreValid) {
  auto r = loadFile(std::string(INFERGATE_SOURCE_DIR) + "/config/examples/quickstart.yaml", env());
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front());
}

TEST(ConfigLoader, DiagnosisWindowAndInterval) {
  auto ok = loadString("diagnosis:\n  window: 2m\n  interval: 1s\n" + minimal(), "t.yaml", env());
  ASSERT_TRUE(ok.ok()) << ok.errors.front();
  EXPECT_EQ(ok.config.diagnosis.window.count(), 120'000);
  EXPECT_FALSE(loadString("diagnosis:\n  window: 1h\n  interval: 1s\n" + minimal(), "t.yaml", env()).ok());
  EXPECT_FALSE(loadString("diagnosis:\n  window: 1s\n  interval: 2s\n" + minimal(), "t.yaml", env()).ok());
}

// Refusal phrases: a list replaces every language's defaults; a map replaces
// (or adds) one language's set.
TEST(ConfigLoader, RefusalPhrasesAsAListOrPerLanguage) {
  auto list = loadString("sampling:\n  scorers:\n    refusal_phrases: [computer says no]\n" + minimal(), "t.yaml", env());
  ASSERT_TRUE(list.ok()) << list.errors.front();
  EXPECT_EQ(list.config.sampling.refusal_phrases, std::vector<std::string>{"computer says no"});
  auto map = loadString("sampling:\n  scorers:\n    refusal_phrases:\n      ja: [お断りします]\n      it: [\"mi dispiace, ma non posso\"]\n" +
                            minimal(),
                        "t.yaml", env());
  ASSERT_TRUE(map.ok()) << map.errors.front();
  ASSERT_EQ(map.config.sampling.refusal_phrases_by_language.size(), 2u);
  EXPECT_EQ(map.config.sampling.refusal_phrases_by_language[0].first, "ja");
  EXPECT_EQ(map.config.sampling.refusal_phrases_by_language[1].second,
            std::vector<std::string>{"mi dispiace, ma non posso"});
}

TEST(ConfigLoader, MetricsAndAccessLogSettings) {
  auto r = loadString(
      "metrics:\n  enabled: false\n  server_timing: false\n  model_labels: [gpt-4o, llama3]\n"
      "  buckets:\n    time_to_first_token: [0.1, 0.5, 2]\n"
      "access_log:\n  enabled: true\n  path: /var/log/infergate.jsonl\n" +
          minimal("    inject_stream_usage: true\n"),
      "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_FALSE(r.config.metrics.enabled);
  EXPECT_FALSE(r.config.metrics.server_timing);
  EXPECT_EQ(r.config.metrics.model_labels, (std::vector<std::string>{"gpt-4o", "llama3"}));
  EXPECT_EQ(r.config.metrics.buckets.time_to_first_token, (std::vector<double>{0.1, 0.5, 2}));
  EXPECT_EQ(r.config.metrics.buckets.inter_token_latency.front(), 0.001);  // default kept
  EXPECT_GE(r.config.metrics.buckets.request_duration.back(), 600);  // a ladder up to 10 minutes
  EXPECT_LT(r.config.metrics.buckets.request_duration.back(), 600 * 1.0905);
  // A coarser ladder: half the bounds per doubling, explicit lists kept.
  auto coarse = loadString("metrics:\n  buckets:\n    per_octave: 4\n    gateway_overhead: [0.001]\n" + minimal(), "t.yaml", env());
  ASSERT_TRUE(coarse.ok()) << coarse.errors.front();
  EXPECT_EQ(coarse.config.metrics.buckets.per_octave, 4u);
  EXPECT_EQ(coarse.config.metrics.buckets.gateway_overhead, std::vector<double>{0.001});
  const auto fine = HistogramBuckets{}.time_to_first_token.size();
  EXPECT_NEAR(static_cast<double>(coarse.config.metrics.buckets.time_to_first_token.size()), fine / 2.0, 1.0);
  EXPECT_FALSE(loadString("metrics:\n  buckets:\n    per_octave: 0\n" + minimal(), "t.yaml", env()).ok());
  EXPECT_TRUE(r.config.access_log.enabled);
  EXPECT_EQ(r.config.access_log.path, "/var/log/infergate.jsonl");
  EXPECT_TRUE(r.config.backends[0].inject_stream_usage);
}

TEST(ConfigLoader, MetricsErrors) {
  EXPECT_EQ(errorsOf("metrics:\n  enabled: yes please\n" + minimal()),
            "test.yaml:2:12: enabled must be true or false, got 'yes please'\n");
  EXPECT_EQ(errorsOf("metrics:\n  buckets:\n    time_to_first_token: [0.5, 0.1]\n" + minimal()),
            "test.yaml:3:32: time_to_first_token: bucket bounds must be strictly increasing\n");
  EXPECT_EQ(errorsOf("metrics:\n  buckets:\n    inter_token_latency: [-1]\n" + minimal()),
            "test.yaml:3:27: inter_token_latency: bucket bounds must be positive numbers of seconds, got '-1'\n");
  EXPECT_EQ(errorsOf("metrics:\n  buckets:\n    ttft: [1]\n" + minimal()).rfind("test.yaml:3:5: unknown key 'ttft'", 0), 0u);
  EXPECT_EQ(errorsOf("metrics:\n  model_labels: ['gpt-*']\n" + minimal()),
            "test.yaml:2:17: metrics.model_labels: 'gpt-*' is not a valid label (no globs, not empty, not 'other' or "
            "'none')\n");
  EXPECT_EQ(errorsOf("access_log:\n  path: ''\n" + minimal()), "test.yaml:2:9: access_log.path must not be empty\n");
  EXPECT_EQ(errorsOf("log:\n  level: loud\n" + minimal()),
            "test.yaml:2:10: log.level must be debug, info, warn or error, not 'loud'\n");
}

TEST(ConfigLoader, ResilienceSettings) {
  auto r = loadString(
      "backends:\n  - name: a\n    load_balancing: weighted\n"
      "    endpoints:\n      - {url: 'http://127.0.0.1:1', weight: 3}\n      - url: http://127.0.0.1:2\n"
      "    circuit_breaker: {consecutive_failures: 7, failure_rate: 0.25, window: 1m, min_requests: 50,\n"
      "                      base_ejection: 5s, max_ejection: 2m, half_open_probes: 3, max_ejected_percent: 30,\n"
      "                      failure_statuses: [500, 503], slow_first_token: 4s}\n"
      "    retry: {max_attempts: 4, statuses: [429], budget: 0.1, backoff_base: 10ms, backoff_max: 500ms}\n"
      "    limits: {max_in_flight: 64, max_pending: 16, queue_timeout: 2s}\n"
      "    health_check: {path: /ready, interval: 2s, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 4}\n"
      "  - name: b\n    endpoints: [{url: 'http://127.0.0.1:3'}]\n"
      "routes:\n  - name: r\n    backend: a\n    fallbacks: [b]\n",
      "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& a = r.config.backends[0];
  EXPECT_EQ(a.load_balancing, LoadBalancing::Weighted);
  EXPECT_EQ(a.endpoints[0].weight, 3u);
  EXPECT_EQ(a.endpoints[1].weight, 1u);
  EXPECT_EQ(a.circuit_breaker.consecutive_failures, 7u);
  EXPECT_DOUBLE_EQ(a.circuit_breaker.failure_rate, 0.25);
  EXPECT_EQ(a.circuit_breaker.window.count(), 60000);
  EXPECT_EQ(a.circuit_breaker.half_open_probes, 3u);
  EXPECT_EQ(a.circuit_breaker.failure_statuses, (std::vector<unsigned>{500, 503}));
  EXPECT_EQ(a.circuit_breaker.slow_first_token.count(), 4000);
  EXPECT_EQ(a.retry.max_attempts, 4u);
  EXPECT_EQ(a.retry.statuses, (std::vector<unsigned>{429}));
  EXPECT_EQ(a.retry.backoff_max.count(), 500);
  EXPECT_EQ(a.limits.max_in_flight, 64u);
  EXPECT_EQ(a.limits.queue_timeout.count(), 2000);
  EXPECT_TRUE(a.health_check.enabled);
  EXPECT_EQ(a.health_check.path, "/ready");
  EXPECT_EQ(a.health_check.unhealthy_threshold, 4u);
  EXPECT_FALSE(r.config.backends[1].health_check.enabled);
  EXPECT_EQ(r.config.routes[0].fallback_indexes, (std::vector<std::size_t>{1}));
}

TEST(ConfigLoader, SignalsAndTheirErrors) {
  auto r = loadString(minimal("    load_balancing: least_load\n"
                              "    signals: {kind: sglang, interval: 500ms, max_waiting: 4, max_kv_cache: 0.8, "
                              "shed_waiting: 16, shed_kv_cache: 0.95, waiting: my_queue}\n"),
                      "test.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0];
  const auto& s = r.config.backends[0].signals;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.kind, infergate::config::SignalsConfig::Kind::Sglang);
  EXPECT_EQ(s.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(s.max_waiting, 4u);
  EXPECT_DOUBLE_EQ(s.max_kv_cache, 0.8);
  EXPECT_EQ(s.shed_waiting, 16u);
  EXPECT_DOUBLE_EQ(s.shed_kv_cache, 0.95);
  EXPECT_EQ(s.waiting, "my_queue");
  EXPECT_EQ(r.config.backends[0].load_balancing, infergate::config::LoadBalancing::LeastLoad);

  EXPECT_EQ(errorsOf(minimal("    load_balancing: least_load\n")),
            "test.yaml:5:21: load_balancing: least_load needs the backend's signals (signals: {kind: vllm})\n");
  EXPECT_EQ(errorsOf(minimal("    signals: {kind: ollama}\n")),
            "test.yaml:5:21: signals.kind must be vllm, tgi, sglang, llamacpp or custom, got 'ollama'\n");
  EXPECT_EQ(errorsOf(minimal("    signals: {kind: custom}\n")),
            "test.yaml:5:14: signals of kind custom name at least one metric: running, waiting or kv_cache_usage\n");
  EXPECT_EQ(errorsOf(minimal("    signals: {shed_kv_cache: 2}\n")),
            "test.yaml:5:30: shed_kv_cache must be a number between 0 and 1, got '2'\n");
}

TEST(ConfigLoader, ResilienceErrors) {
  EXPECT_EQ(errorsOf(minimal("    load_balancing: random\n")),
            "test.yaml:5:21: load_balancing must be round_robin, least_request, weighted or least_load, got 'random'\n");
  EXPECT_EQ(errorsOf(minimal("    circuit_breaker: {failure_rate: 1.5}\n")),
            "test.yaml:5:37: failure_rate must be a number between 0 and 1, got '1.5'\n");
  EXPECT_EQ(errorsOf(minimal("    circuit_breaker: {failure_statuses: [500, 99]}\n")),
            "test.yaml:5:41: failure_statuses: '99' is not an HTTP status code\n");
  EXPECT_EQ(errorsOf(minimal("    circuit_breaker: {base_ejection: 1m, max_ejection: 10s}\n")),
            "test.yaml:5:56: circuit_breaker.max_ejection must be >= base_ejection\n");
  EXPECT_EQ(errorsOf(minimal("    retry: {max_attempts: 0}\n")),
            "test.yaml:5:27: retry.max_attempts must be at least 1 (1 = no retries)\n");
  EXPECT_EQ(errorsOf(minimal("", "    fallbacks: [nope]\n")), "test.yaml:8:16: route 'r' names unknown fallback backend 'nope'\n");
  EXPECT_EQ(errorsOf(minimal("", "    fallbacks: [a]\n")), "test.yaml:8:16: route 'r': fallback 'a' is its own backend\n");
  EXPECT_EQ(errorsOf(minimal("    health_check: {path: health}\n")), "test.yaml:5:26: health_check.path must start with '/'\n");
}

TEST(ConfigLoader, DriftAndValidationSettings) {
  auto r = loadString(
      "drift:\n  baseline_file: /var/lib/infergate/baseline.json\n  learn_requests: 5000\n  window: 30m\n"
      "  evaluation_interval: 30s\n  min_window_requests: 2000\n  psi_warn: 0.05\n  psi_alert: 0.2\n  ks_alert: 0.15\n" +
          minimal("", "    validation: {mode: observe, max_prompt_chars: 100000, max_messages: 64, max_tokens_cap: 4096, "
                      "max_tokens_action: clamp}\n"),
      "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& d = r.config.drift;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.baseline_file, "/var/lib/infergate/baseline.json");
  EXPECT_EQ(d.learn_requests, 5000u);
  EXPECT_EQ(d.window.count(), 1'800'000);
  EXPECT_EQ(d.evaluation_interval.count(), 30'000);
  EXPECT_EQ(d.min_window_requests, 2000u);
  EXPECT_DOUBLE_EQ(d.psi_alert, 0.2);
  EXPECT_EQ(d.anomaly.feature_mask, ~0u);  // every feature checked by default
  EXPECT_EQ(d.anomaly.rare_share, 0);
  EXPECT_EQ(d.anomaly.min_features, 1u);
  const auto& v = r.config.routes[0].validation;
  EXPECT_EQ(v.mode, ValidationConfig::Mode::Observe);
  EXPECT_EQ(v.max_prompt_chars, 100000u);
  EXPECT_EQ(v.max_messages, 64u);
  EXPECT_EQ(v.max_tokens_cap, 4096u);
  EXPECT_TRUE(v.clamp_max_tokens);
}

TEST(ConfigLoader, AnomalyRule) {
  auto r = loadString("drift:\n  anomaly:\n    features: [max_tokens, script]\n    rare_share: 0.001\n"
                      "    min_features: 2\n" + minimal(), "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& a = r.config.drift.anomaly;
  EXPECT_EQ(a.feature_mask, (1u << 6) | (1u << 14));  // config/profile_features.hpp order
  EXPECT_DOUBLE_EQ(a.rare_share, 0.001);
  EXPECT_EQ(a.min_features, 2u);
  EXPECT_EQ(errorsOf("drift:\n  anomaly:\n    features: [max_tokens, colour]\n" + minimal()),
            "test.yaml:3:15: drift.anomaly.features: unknown feature 'colour'\n");
  EXPECT_EQ(errorsOf("drift:\n  anomaly:\n    rare_share: 0.2\n" + minimal()),
            "test.yaml:3:17: drift.anomaly.rare_share must be below 0.05\n");
  EXPECT_EQ(errorsOf("drift:\n  anomaly:\n    features: [script]\n    min_features: 2\n" + minimal()),
            "test.yaml:4:19: drift.anomaly.min_features must be between 1 and the number of checked features (1)\n");
  EXPECT_EQ(errorsOf("drift:\n  anomaly:\n    min_features: 0\n" + minimal()),
            "test.yaml:3:19: drift.anomaly.min_features must be between 1 and the number of checked features (15)\n");
}

TEST(ConfigLoader, DriftAndValidationErrors) {
  EXPECT_EQ(errorsOf("drift:\n  window: 1s\n  evaluation_interval: 10s\n" + minimal()),
            "test.yaml:2:11: drift.window must be at least drift.evaluation_interval\n");
  EXPECT_EQ(errorsOf("drift:\n  psi_alert: 3\n" + minimal()), "test.yaml:2:14: psi_alert must be a number between 0 and 1, got '3'\n");
  EXPECT_EQ(errorsOf(minimal("", "    validation: {mode: strict}\n")),
            "test.yaml:8:24: validation.mode must be enforce or observe, got 'strict'\n");
  EXPECT_EQ(errorsOf(minimal("", "    validation: {max_tokens_action: drop}\n")),
            "test.yaml:8:37: validation.max_tokens_action must be reject or clamp, got 'drop'\n");
}

TEST(ConfigLoader, SamplingSettings) {
  auto r = loadString("sampling:\n  rate: 0.05\n  max_per_minute: 1200\n  burst: 30\n  capture_bytes: 8KiB\n"
                      "  queue: 64\n  always: {errors: false, slow_first_token: 2s}\n" + minimal(),
                      "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const auto& s = r.config.sampling;
  EXPECT_DOUBLE_EQ(s.rate, 0.05);
  EXPECT_EQ(s.max_per_minute, 1200u);
  EXPECT_EQ(s.burst, 30u);
  EXPECT_EQ(s.capture_bytes, 8u * 1024);
  EXPECT_EQ(s.queue, 64u);
  EXPECT_FALSE(s.always_errors);
  EXPECT_TRUE(s.always_anomalies);
  EXPECT_EQ(s.slow_first_token.count(), 2000);
  auto defaults = loadString(minimal(), "t.yaml", env());
  EXPECT_EQ(defaults.config.sampling.max_per_minute, 600u);
  EXPECT_EQ(defaults.config.sampling.burst, 0u);  // max_per_minute / 12
}

TEST(ConfigLoader, SamplingErrors) {
  EXPECT_EQ(errorsOf("sampling:\n  max_per_minute: 60\n  burst: 61\n" + minimal()),
            "test.yaml:3:10: sampling.burst must not exceed sampling.max_per_minute\n");
  EXPECT_EQ(errorsOf("sampling:\n  queue: 0\n" + minimal()), "test.yaml:2:10: sampling.queue must be at least 1\n");
  EXPECT_EQ(errorsOf("sampling:\n  capture_bytes: 100\n" + minimal()),
            "test.yaml:2:18: sampling.capture_bytes must be between 256B and 16MiB\n");
}

TEST(ConfigLoader, ProfileBins) {
  auto r = loadString("profile:\n  bins:\n    prompt_chars: [100, 1000, 10000]\n" + minimal(), "t.yaml", env());
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_EQ(r.config.profile.bins.at("prompt_chars"), (std::vector<std::uint64_t>{100, 1000, 10000}));
  EXPECT_EQ(errorsOf("profile:\n  bins:\n    prompt_chars: [100, 50]\n" + minimal()),
            "test.yaml:3:19: profile.bins.prompt_chars: bounds must be strictly increasing integers\n");
  EXPECT_EQ(errorsOf("profile:\n  bins:\n    script: [1]\n" + minimal()).rfind("test.yaml:3:5: unknown key 'script'", 0), 0u);
}

TEST(LoaderAuth, KeysAreHashedAtLoadAndLimitsRead) {
  const std::string yaml = std::string(kValid) +
                           "auth:\n  keys:\n    - name: team\n      key: ${TEAM}\n      models: ['m-*']\n"
                           "      expires: 2030-01-02T03:04:05Z\n      limits: {requests_per_minute: 10, concurrent: 2}\n"
                           "rate_limits:\n  global: {tokens_per_minute: 5000}\n";
  const auto r = loadString(yaml, "auth.yaml", env({{"KEY", "x"}, {"TEAM", "sk-team-value-0000000"}}));
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  ASSERT_EQ(r.config.auth.keys.size(), 1u);
  const auto& k = r.config.auth.keys[0];
  EXPECT_TRUE(r.config.auth.enabled);
  EXPECT_EQ(k.digest, sha256("sk-team-value-0000000"));
  EXPECT_EQ(k.expires_unix, 1893553445);
  EXPECT_EQ(k.limits.requests_per_minute, 10u);
  EXPECT_EQ(k.limits.concurrent, 2u);
  EXPECT_EQ(r.config.rate_limits.global.tokens_per_minute, 5000u);
  for (const auto& route : r.config.routes) EXPECT_TRUE(route.auth_required);
}

TEST(LoaderAuth, MistakesAreErrorsWithTheirPlace) {
  const std::string yaml = std::string(kValid) +
                           "auth:\n  keys:\n    - name: a\n      key: short\n"
                           "    - name: a\n      sha256: " + std::string(64, 'a') +
                           "\n      limits: {requests_per_hour: 3}\n"
                           "rate_limits:\n  store: memcached\n";
  const auto r = loadString(yaml, "auth.yaml", env({{"KEY", "x"}}));
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  EXPECT_NE(all.find("shorter than 16"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate auth key name 'a'"), std::string::npos) << all;
  EXPECT_NE(all.find("requests_per_hour"), std::string::npos) << all;
  EXPECT_NE(all.find("rate_limits.store"), std::string::npos) << all;
  EXPECT_NE(all.find("auth.yaml:"), std::string::npos) << all;
  EXPECT_EQ(all.find("short"), all.find("shorter")) << "the key's value appears in an error: " << all;
}

TEST(LoaderAuth, TheRedisStoreIsReadWithItsPassword) {
  const std::string yaml = std::string(kValid) +
                           "rate_limits:\n  store: redis\n  redis:\n    address: 10.1.2.3:6380\n"
                           "    password: ${REDIS_PASSWORD}\n    timeout: 20ms\n    on_failure: fail_closed\n"
                           "    key_prefix: gw-eu\n    max_pending: 64\n"
                           "  global: {requests_per_second: 5}\n";
  const auto r = loadString(yaml, "limits.yaml", env({{"KEY", "x"}, {"REDIS_PASSWORD", "hunter2-redis"}}));
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  const auto& s = r.config.rate_limits;
  EXPECT_TRUE(s.redis);
  EXPECT_EQ(s.redis_store.address.host, "10.1.2.3");
  EXPECT_EQ(s.redis_store.address.port, 6380);
  EXPECT_EQ(s.redis_store.password, "hunter2-redis");
  EXPECT_EQ(s.redis_store.timeout.count(), 20);
  EXPECT_FALSE(s.redis_store.fail_open);
  EXPECT_EQ(s.redis_store.key_prefix, "gw-eu");
  EXPECT_EQ(s.redis_store.max_pending, 64u);
  // The defaults: fail open, 50 ms.
  const auto d = loadString(std::string(kValid) + "rate_limits:\n  store: redis\n", "limits.yaml", env({{"KEY", "x"}}));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d.config.rate_limits.redis_store.fail_open);
  EXPECT_EQ(d.config.rate_limits.redis_store.timeout.count(), 50);
}

TEST(LoaderAuth, RedisStoreMistakesAreErrorsWithTheirPlace) {
  const auto errors = [](const std::string& section) {
    const auto r = loadString(std::string(kValid) + section, "limits.yaml", env({{"KEY", "x"}}));
    std::string all;
    for (const auto& e : r.errors) all += e + "\n";
    return all;
  };
  EXPECT_NE(errors("rate_limits:\n  store: redis\n  redis:\n    on_failure: maybe\n")
                .find(":17: rate_limits.redis.on_failure must be fail_open or fail_closed, got 'maybe'"),
            std::string::npos);
  EXPECT_NE(errors("rate_limits:\n  store: redis\n  redis:\n    timeout: 0ms\n").find("rate_limits.redis.timeout"),
            std::string::npos);
  EXPECT_NE(errors("rate_limits:\n  store: redis\n  redis:\n    address: nohost\n").find(":14: address: expected host:port"),
            std::string::npos);
  EXPECT_NE(errors("rate_limits:\n  store: redis\n  redis:\n    colour: red\n").find("unknown key 'colour'"),
            std::string::npos);
  EXPECT_NE(errors("rate_limits:\n  redis:\n    timeout: 10ms\n").find("only read with store: redis"),
            std::string::npos);
}
