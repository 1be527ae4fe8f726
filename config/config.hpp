#pragma once
// Typed configuration of infergate. Everything the request path needs is resolved
// here once (addresses, durations, sizes, compiled match rules); nothing on the
// request path looks a setting up by name.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/cidr.hpp"
#include "config/histogram_ladder.hpp"

namespace infergate::config {

using Duration = std::chrono::milliseconds;

// A host:port pair, kept as written (for Host headers and logs) and as numbers.
struct Address {
  std::string host;       // "127.0.0.1", "::1", "model-a.internal"
  std::uint16_t port = 0;
  std::string authority() const;  // host:port, IPv6 bracketed
};

struct ServerLimits {
  std::size_t max_body_bytes = 8 * 1024 * 1024;    // 413 above this
  std::size_t max_header_bytes = 16 * 1024;        // 431 above this (request line + fields)
  unsigned max_connections = 10'000;               // client connections across workers (0 = no cap)
  unsigned max_connections_per_client = 0;         // per client IP address (0 = no cap: clients behind one NAT)
  // Request bodies held at once across all connections (declared lengths of
  // bodies being read, and chunked bodies as they grow): 503 over it.
  std::size_t max_buffered_body_bytes = 256 * 1024 * 1024;
};

struct ServerTimeouts {
  Duration header_read{10'000};      // first byte of a request to end of its header: 408
  Duration body_read{30'000};        // end of header to end of body: 408
  Duration keepalive_idle{60'000};   // idle keep-alive connection is closed silently
};

// Gives the allocator's free memory back to the kernel once a burst is over
// (gateway/server/memory_trimmer.hpp).
struct MemoryTrim {
  bool enabled = true;
  Duration interval{10'000};           // how often resident memory and the load are looked at
  std::size_t min_free = 8u << 20;     // resident memory this much over the last trim's level once a burst is over: trim
};

struct ServerConfig {
  Address listen{"0.0.0.0", 8080};
  unsigned workers = 0;              // 0 = one per CPU the process may run on (affinity, cgroup quota)
  // Join an address another process already listens on (SO_REUSEPORT splits
  // its connections between both): only when asked, e.g. for a hand-over.
  bool share_listen_address = false;
  Duration drain_delay{0};           // on SIGTERM: /readyz 503 this long, still serving, before the listeners close
  Duration drain_timeout{30'000};    // graceful shutdown bound, after drain_delay
  unsigned busy_poll_us = 50;        // a loaded worker polls this long before sleeping (0 = never)
  // A worker's sends leave together, once its ready handlers have run, in one
  // io_uring_enter() (gateway/net/send_batch.hpp); off: one send() each, from
  // its handler. Without io_uring (seccomp, old kernels) this has no effect.
  bool batch_sends = true;
  // The reads an epoll wait announces are made together, in one
  // io_uring_enter() (gateway/net/read_prefetch.hpp); off: one recv() each,
  // as the reactor performs them. Without io_uring this has no effect.
  bool batch_receives = true;
  // Endpoints the process can ever have had (configured at start, then added
  // by reloads): per-endpoint state and series are laid out for this many, so
  // that a reload can add endpoints without moving what workers read. At least
  // the configured count.
  unsigned max_endpoints = 256;
  ServerLimits limits;
  ServerTimeouts timeouts;
  MemoryTrim memory_trim;
  // Peers whose X-Forwarded-For / X-Real-IP are believed for the client's
  // address (limits, logs); from anyone else those headers are replaced.
  std::vector<Cidr> trusted_proxies;
  // A second listener that serves HTTPS (server.tls): the same routes, limits
  // and timeouts as the plain one, after a handshake under its own timeout.
  struct Tls {
    bool enabled = false;
    Address listen{"0.0.0.0", 8443};
    std::string cert_file, key_file;  // PEM; the certificate file may hold the chain
    Duration handshake_timeout{10'000};
  } tls;
};

struct AdminConfig {
  Address listen{"127.0.0.1", 9090};
  // A bearer token (admin.token, from the environment), kept as its SHA-256:
  // required for every POST, and for GETs with protect_reads. /healthz and
  // /readyz stay open to probes; /metrics too unless metrics_open is false.
  std::optional<std::array<unsigned char, 32>> token_digest;
  bool protect_reads = false;
  bool metrics_open = true;
};

// Rate limits of one scope (a key, a route, or the whole gateway); 0 = none.
// Tokens are prompt plus completion, charged at admission from an estimate
// and settled with the answer's usage.
struct RateLimitConfig {
  unsigned requests_per_second = 0;
  unsigned requests_per_minute = 0;
  unsigned tokens_per_minute = 0;
  unsigned concurrent = 0;
  bool any() const { return requests_per_second || requests_per_minute || tokens_per_minute || concurrent; }
  bool operator==(const RateLimitConfig&) const = default;
};

// `store: redis`: the limits live in one Redis every replica shares, checked
// with one atomic script per request; concurrency caps stay per process.
struct RedisStoreConfig {
  Address address{"127.0.0.1", 6379};
  std::string password;                 // AUTH (from ${ENV}); never logged
  Duration timeout{50};                 // per check; then on_failure applies
  Duration connect_timeout{1000};
  bool fail_open = true;                // on_failure: fail_open (admit) | fail_closed (503)
  std::string key_prefix = "infergate"; // Redis keys: <prefix>:key:<name>:rpm, …
  unsigned max_pending = 1024;          // checks waiting per worker; more fail at once
};

struct RateLimitsConfig {
  bool redis = false;                   // store: local (default) | redis
  RedisStoreConfig redis_store;
  RateLimitConfig global;
  // Completion tokens charged at admission when the request sets no max_tokens.
  unsigned default_completion_tokens = 256;
};

// One client API key. Only its SHA-256 digest is kept: a key given in plain
// text (from the environment) is hashed at load and dropped.
struct ApiKeyConfig {
  std::string name;                          // the only thing logs, samples and metrics show
  std::array<unsigned char, 32> digest{};    // SHA-256 of the key
  std::vector<std::string> routes;           // route names it may use; empty = every route
  std::vector<std::string> models;           // exact names or '*' globs; empty = any model
  std::optional<std::int64_t> expires_unix;  // seconds since the epoch; none = never
  RateLimitConfig limits;
};

// Client authentication: with an `auth` section, routes require a key unless
// they say `auth: off`.
struct AuthConfig {
  bool enabled = false;            // an auth section exists
  std::vector<ApiKeyConfig> keys;  // from the config and the keys file
  std::string keys_file;           // YAML list of {name, sha256, routes, models, expires}
  // Refused keys a client address may present per minute before it is told
  // to wait (429) without its keys being looked at: guessing costs time.
  unsigned max_failures_per_minute = 30;  // 0 = no limit
  // Key names the process can ever know (the config's and those a reloaded
  // keys file adds): each is a metric label value, so this bounds the series.
  unsigned max_keys = 256;
};

struct UpstreamTimeouts {
  Duration connect{2'000};           // TCP connect
  Duration first_token{60'000};      // request sent -> first response body byte (first SSE event)
  Duration idle{30'000};             // between two body pieces
  Duration total{600'000};           // whole exchange
};

struct PoolConfig {
  std::size_t max_idle_per_endpoint = 64;  // per worker
  Duration idle_ttl{60'000};               // idle upstream connection lifetime
};

struct EndpointConfig {
  Address address;
  unsigned weight = 1;               // for load_balancing: weighted
  bool tls = false;                  // https://
  // resolve: all. Every address the host name resolves to is an endpoint of
  // its own (a Kubernetes headless Service: one per pod), followed as the
  // answers change. Default (first): the name is one endpoint, connecting
  // to one of its addresses.
  bool every_address = false;
};

// How a backend's https:// endpoints are verified. By default the server's
// certificate must chain to the system CA store and name the endpoint's host.
struct UpstreamTlsConfig {
  std::string ca_file;               // PEM CA bundle instead of the system store
  std::string cert_file, key_file;   // a client certificate (mTLS), PEM
  std::string server_name;           // SNI and the name checked, instead of the endpoint's host
  bool insecure_skip_verify = false; // no verification at all: warned at start and by --check
  bool operator==(const UpstreamTlsConfig&) const = default;
};

// least_load: by the model servers' own queues and KV-cache use (signals),
// with infergate's in-flight count; least_request when signals are unknown.
enum class LoadBalancing { RoundRobin, LeastRequest, Weighted, LeastLoad };

// What each endpoint's model server says about its load, scraped from its
// Prometheus text off the request path (gateway/upstream/signal_scraper.hpp).
struct SignalsConfig {
  enum class Kind { Vllm, Tgi, Sglang, Llamacpp, Custom };
  bool enabled = false;
  Kind kind = Kind::Vllm;
  std::string path = "/metrics";
  Duration interval{1'000};
  Duration timeout{1'000};
  Duration max_age{0};                 // older signals are unknown; 0 = 3 intervals
  // Metric names (custom; for a preset, they replace its names): summed over
  // their series (running, waiting), the largest for KV-cache use (0-1).
  std::string running, waiting, kv_cache_usage;
  // least_load: endpoints over either are avoided while others are not (0 = no bound).
  unsigned max_waiting = 0;
  double max_kv_cache = 0;
  // Shedding (any load balancing): when every endpoint's fresh signals are
  // over either, new requests go to the route's fallbacks or get a 503
  // `overloaded` rather than deepen a queue (0 = never).
  unsigned shed_waiting = 0;
  double shed_kv_cache = 0;
  // least_load: requests that open with the same messages go to the same
  // endpoint (rendezvous hashing) while its load score stays within
  // load_factor x the least one + 1; else to the least loaded (0 = off).
  double prefix_affinity = 0;
};

struct CircuitBreakerConfig {
  unsigned consecutive_failures = 5;       // open after this many failures in a row (0 = off)
  double failure_rate = 0.5;               // open when the window's failure share exceeds this (0 = off)
  Duration window{30'000};                 // sliding window for the failure rate
  unsigned min_requests = 20;              // the rate rule needs at least this many requests in the window
  Duration base_ejection{10'000};          // open for base_ejection x n (n = consecutive ejections)
  Duration max_ejection{300'000};
  unsigned half_open_probes = 1;           // concurrent trial requests when half-open
  unsigned max_ejected_percent = 50;       // never open more than this share of a backend's endpoints
  std::vector<unsigned> failure_statuses{500, 502, 503, 504};
  Duration slow_first_token{0};            // a first token slower than this counts as a failure (0 = off)
};

struct RetryConfig {
  unsigned max_attempts = 3;               // attempts per request, across endpoints and fallbacks
  std::vector<unsigned> statuses{429, 502, 503, 504};
  double budget = 0.2;                     // retries in flight at most this share of requests in flight
  unsigned min_retries_in_flight = 3;      // ... but always allow this many
  Duration backoff_base{25};               // jittered exponential backoff between attempts
  Duration backoff_max{1'000};
  Duration max_retry_after{5'000};         // a longer Retry-After is not waited for: no retry
  // A first-token timeout is retried only when asked: for a non-streaming
  // request the first byte is the whole answer, so a retry repeats the work.
  bool on_first_token_timeout = false;
};

struct LimitsConfig {
  unsigned max_in_flight = 0;              // per backend, across workers (0 = unlimited)
  unsigned max_pending = 0;                // requests that may wait for a slot
  Duration queue_timeout{1'000};           // how long they wait
};

struct HealthCheckConfig {
  bool enabled = false;
  std::string path = "/health";
  Duration interval{5'000};
  Duration timeout{1'000};
  unsigned healthy_threshold = 2;
  unsigned unhealthy_threshold = 3;
};

struct HeaderValue {
  std::string name;
  std::string value;                 // already ${ENV}-interpolated; may be a secret
};

struct BackendConfig {
  std::string name;
  // Add stream_options.include_usage to streaming requests that do not set
  // stream_options, so that token usage is reported and counted.
  bool inject_stream_usage = false;
  std::vector<EndpointConfig> endpoints;
  std::vector<HeaderValue> headers;  // injected into every upstream request, overriding the client's
  UpstreamTimeouts timeouts;
  PoolConfig pool;
  LoadBalancing load_balancing = LoadBalancing::RoundRobin;
  CircuitBreakerConfig circuit_breaker;
  RetryConfig retry;
  LimitsConfig limits;
  HealthCheckConfig health_check;
  SignalsConfig signals;
  UpstreamTlsConfig tls;             // for https:// endpoints
  // Endpoints named by host are resolved again this often, off the request
  // path (0 = only at start); a failed resolution keeps the address in use.
  Duration dns_refresh{30'000};
};

// Input validation per route.
struct ValidationConfig {
  enum class Mode { Enforce, Observe };
  Mode mode = Mode::Enforce;         // enforce: 400 naming the param; observe: forward, count only
  std::uint64_t max_prompt_chars = 0;  // 0 = no limit
  unsigned max_messages = 0;
  std::uint64_t max_tokens_cap = 0;
  bool clamp_max_tokens = false;     // over the cap: clamp to it instead of rejecting
  // No max_tokens/max_completion_tokens in the body: add "max_tokens": cap
  // (insert, the default) or forward it as is (allow).
  bool insert_max_tokens_when_absent = true;
};

struct RouteConfig {
  std::string name;
  std::string path_prefix = "/";
  std::vector<std::string> models;   // exact names or '*' globs; empty = any request
  std::string backend;               // name in Config::backends
  std::vector<std::string> fallbacks;  // backends tried in order when `backend` cannot serve
  ValidationConfig validation;
  std::string rename_model;          // empty = keep the client's model
  double sample_rate = -1;           // output sampling rate; negative = sampling.rate
  bool auth_required = true;         // with an auth section: `auth: required` (default) or `off`
  RateLimitConfig limits;            // this route's own rate limits
  std::size_t backend_index = 0;     // resolved at load
  std::vector<std::size_t> fallback_indexes;
};

// Histogram bucket upper bounds in seconds, per histogram family.
// Defaults: geometric ladders of 8 bounds per doubling (config/histogram_ladder.hpp):
// a quantile read through histogram_quantile is within 9.05% of the truth
// inside each range. About 110 bounds each.
struct HistogramBuckets {
  static constexpr double kRanges[7][2] = {
      {0.01, 600},     // request_duration: 10 ms .. 10 min
      {0.0001, 5},     // upstream_connect: 100 us .. 5 s
      {0.01, 120},     // upstream_first_byte: 10 ms .. 2 min
      {0.01, 120},     // time_to_first_token
      {0.001, 10},     // inter_token_latency: 1 ms .. 10 s
      {0.001, 10},     // time_per_output_token
      {0.000005, 0.1}  // gateway_overhead: 5 us .. 100 ms
  };
  // Rebuilds every ladder with `perOctave` bounds per doubling.
  void useLadders(unsigned perOctave);

  unsigned per_octave = kDefaultBucketsPerOctave;
  std::vector<double> request_duration = geometricBounds(kRanges[0][0], kRanges[0][1]);
  std::vector<double> upstream_connect = geometricBounds(kRanges[1][0], kRanges[1][1]);
  std::vector<double> upstream_first_byte = geometricBounds(kRanges[2][0], kRanges[2][1]);
  std::vector<double> time_to_first_token = geometricBounds(kRanges[3][0], kRanges[3][1]);
  std::vector<double> inter_token_latency = geometricBounds(kRanges[4][0], kRanges[4][1]);
  std::vector<double> time_per_output_token = geometricBounds(kRanges[5][0], kRanges[5][1]);
  std::vector<double> gateway_overhead = geometricBounds(kRanges[6][0], kRanges[6][1]);
};

struct MetricsConfig {
  bool enabled = true;               // off: nothing is recorded (for overhead comparisons)
  bool server_timing = true;         // Server-Timing response header
  std::vector<std::string> model_labels;  // label values besides the exact names in routes
  HistogramBuckets buckets;
};

// Custom bin upper bounds for size features (prompt_chars, last_user_chars,
// system_chars, body_bytes, messages, max_tokens); absent = log2 bins.
struct ProfileConfig {
  std::map<std::string, std::vector<std::uint64_t>> bins;
};

// Which requests count as input anomalies: those with at least `min_features`
// of the checked features in a bin their model's baseline (almost) never saw.
struct AnomalyConfig {
  std::vector<std::string> features;  // checked features (config/profile_features.hpp names); empty = all
  std::uint32_t feature_mask = ~0u;   // resolved at load: bit f set = feature f checked
  double rare_share = 0;              // a bin with at most this share of the baseline is outside it (0 = never seen)
  unsigned min_features = 1;
};

// Multivariate input anomalies (filters/profile/half_space_forest.hpp): each
// model's requests scored against its baseline's requests as a whole vector.
struct MultivariateConfig {
  bool enabled = true;
  double threshold = 0.99;  // a score at or above it is counted (0.91% of unchanged traffic in tests)
};

struct DriftConfig {
  bool enabled = true;
  std::string baseline_file;          // load at start if present; written when a baseline freezes
  unsigned learn_requests = 1000;     // per model: the first N requests become the baseline
  Duration window{600'000};           // the current window's span
  Duration evaluation_interval{10'000};
  unsigned min_window_requests = 1000;  // fewer: no statistics (PSI on small windows is noise)
  double psi_warn = 0.1;
  double psi_alert = 0.25;
  double ks_alert = 0.1;
  AnomalyConfig anomaly;
  MultivariateConfig multivariate;
};

// GET /admin/diagnosis (gateway/diagnosis): which stage is failing over the
// last window.
struct DiagnosisConfig {
  bool enabled = true;
  Duration window{300'000};     // the window judged against the counts before it
  Duration interval{10'000};    // how often a snapshot is taken
};

// LLM-as-judge for a share of the samples (filters/quality, gateway/judge_client).
struct JudgeConfig {
  bool enabled = false;
  std::string backend;               // a name in Config::backends (its endpoints, headers, breaker)
  std::size_t backend_index = 0;     // resolved at load
  std::string model;                 // the judge model
  double fraction = 0.1;             // share of samples judged (by request id hash)
  std::string rubric =
      "You grade answers of an AI assistant. Read the user's prompt and the assistant's answer. Reply with one "
      "digit only: 1 (useless, wrong or harmful), 2 (poor), 3 (acceptable), 4 (good) or 5 (excellent).";
  unsigned max_concurrency = 2;      // judge requests in flight; more are dropped and counted
  unsigned max_tokens = 4;
  Duration timeout{30'000};
  unsigned bad_below = 3;            // a score below this is the judge's "bad" verdict
};

struct SamplingConfig {
  bool enabled = true;
  double rate = 0.01;                // share of requests sampled (routes may override)
  bool always_errors = true;         // 4xx/5xx answers and gateway failures
  bool always_anomalies = true;      // inputs outside their model's baseline
  Duration slow_first_token{0};      // first token slower than this: sampled (0 = off)
  unsigned max_per_minute = 600;     // all reasons together, spread evenly over the minute
  unsigned burst = 0;                // samples that may be taken back to back; 0 = max_per_minute / 12
  std::size_t capture_bytes = 64 * 1024;  // answer text kept per sample
  unsigned queue = 1024;             // samples waiting for scoring; beyond, dropped and counted
  unsigned memory = 200;             // recent samples served by /admin/samples
  unsigned remember = 10'000;        // recent sampled request ids that accept feedback
  unsigned feedback_window = 1000;   // labelled samples behind precision/recall
  std::vector<std::string> refusal_phrases;  // a list: replaces every language's defaults
  // A map (language -> phrases): replaces or adds that language's set, the
  // other languages keep their defaults (filters/quality/refusal.cpp).
  std::vector<std::pair<std::string, std::vector<std::string>>> refusal_phrases_by_language;
  double max_compression_ratio = 4.0;
  enum class PromptPolicy { None, Truncated, Hashed } prompt = PromptPolicy::Truncated;
  std::size_t prompt_chars = 2000;   // kept of the prompt with `truncated`
  std::vector<std::string> redact_patterns;  // RE2 regexes (linear time), replaced by [REDACTED]
  std::string sink_path;             // JSONL file; empty = no file
  std::size_t sink_max_bytes = 64 * 1024 * 1024;
  unsigned sink_keep = 3;            // rotated files kept (path.1 .. path.N)
  JudgeConfig judge;
};

struct AccessLogConfig {
  bool enabled = false;
  std::string path = "stdout";       // "stdout", "stderr" or a file (appended)
  // A file is rotated past max_bytes (path.1 .. path.keep; 0 = never, for
  // logrotate with SIGUSR1): a load test must not fill the disk.
  std::size_t max_bytes = 256 * 1024 * 1024;
  unsigned keep = 3;
};

// The gateway's own log (stderr, logfmt): lines below `level` are dropped.
struct LogConfig {
  enum class Level { Debug, Info, Warn, Error };
  Level level = Level::Info;
};

struct Config {
  std::string source;                // file the config was read from
  LogConfig log;
  ServerConfig server;
  AdminConfig admin;
  AuthConfig auth;
  RateLimitsConfig rate_limits;
  MetricsConfig metrics;
  DriftConfig drift;
  DiagnosisConfig diagnosis;
  ProfileConfig profile;
  AccessLogConfig access_log;
  SamplingConfig sampling;
  std::vector<BackendConfig> backends;
  std::vector<RouteConfig> routes;   // matched in order, first match wins
};

}  // namespace infergate::config
