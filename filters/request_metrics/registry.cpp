#include "filters/request_metrics/registry.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "filters/core/errors.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/profile/features.hpp"
#include "metrics/process_metrics.hpp"

namespace infergate::metrics {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

ClientMetric::Label label(const char* name, const std::string& value) { return {name, value}; }
ClientMetric::Label label(const char* name, std::string_view value) { return {name, std::string(value)}; }

// Sum of a counter series over every shard.
template <class Get>
std::uint64_t sumOver(const std::vector<std::unique_ptr<Shard>>& shards, Get get) {
  std::uint64_t total = 0;
  for (const auto& s : shards) total += get(*s);
  return total;
}

}  // namespace

Registry::Registry(const config::Config& config, unsigned workers)
    : enabled_(config.metrics.enabled), labels_(config), bounds_(config.metrics.buckets), bins_(config.profile) {
  for (unsigned i = 0; i < workers; ++i) shards_.push_back(std::make_unique<Shard>(labels_, bounds_, bins_));
}

std::vector<MetricFamily> Registry::Collect() const {
  std::vector<MetricFamily> out;
  MetricFamily build{"infergate_build_info", "infergate version; always 1.", MetricType::Gauge, {}};
  ClientMetric b;
  b.label = {label("version", std::string(INFERGATE_VERSION))};
  b.gauge.value = 1;
  build.metric.push_back(std::move(b));
  out.push_back(std::move(build));
  collectCounters(out);
  collectGauges(out);
  collectHistograms(out);
  if (extra_) extra_(out);
  appendProcessMetrics(out);
  return out;
}

std::string Registry::scrape() const {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, Collect());
  return text.str();
}

void Registry::collectCounters(std::vector<MetricFamily>& out) const {
  const auto& L = labels_;
  const auto& first = *shards_.front();
  auto counter = [](double v) {
    ClientMetric m;
    m.counter.value = v;
    return m;
  };

  MetricFamily requests{"infergate_requests_total", "Requests answered, by route, backend, model and status code.",
                        MetricType::Counter, {}};
  for (std::uint32_t p = 0; p < L.pairCount(); ++p)
    for (std::uint32_t m = 0; m < L.modelCount(); ++m)
      for (std::uint32_t c = 0; c < LabelSpace::codeCount(); ++c) {
        const auto series = first.requestSeries(p, m, c);
        const auto v = sumOver(shards_, [&](const Shard& s) { return s.requests.get(series); });
        if (v == 0) continue;
        auto metric = counter(static_cast<double>(v));
        metric.label = {label("route", L.route(L.pair(p).route)), label("backend", L.backend(L.pair(p).backend)),
                        label("model", L.model(m)), label("code", LabelSpace::code(c))};
        requests.metric.push_back(std::move(metric));
      }
  out.push_back(std::move(requests));

  // Counters by (route, backend) pair and failure cause: failures, and retries by the cause that led to them.
  auto byPairAndCause = [&](const char* name, const char* help, CounterArray Shard::*family, const char* causeLabel) {
    MetricFamily out{name, help, MetricType::Counter, {}};
    for (std::uint32_t p = 0; p < L.pairCount(); ++p)
      for (std::uint32_t c = 1; c < causeCount(); ++c) {
        const auto series = p * causeCount() + c;
        const auto v = sumOver(shards_, [&](const Shard& s) { return (s.*family).get(series); });
        if (v == 0) continue;
        auto metric = counter(static_cast<double>(v));
        metric.label = {label("route", L.route(L.pair(p).route)), label("backend", L.backend(L.pair(p).backend)),
                        label(causeLabel, causeName(static_cast<FailureCause>(c)))};
        out.metric.push_back(std::move(metric));
      }
    return out;
  };
  out.push_back(byPairAndCause("infergate_failures_total", "Failed requests, by route, backend and cause.",
                               &Shard::failures, "cause"));

  MetricFamily rejected{"infergate_input_rejected_total",
                        "Requests breaking the input rules, by route and reason (rejected in enforce mode, "
                        "counted and forwarded in observe mode).",
                        MetricType::Counter, {}};
  for (std::uint32_t r = 0; r < L.routeCount(); ++r)
    for (std::uint32_t v = 1; v < violationCount(); ++v) {
      const auto series = r * violationCount() + v;
      const auto value = sumOver(shards_, [&](const Shard& s) { return s.inputRejected.get(series); });
      if (value == 0) continue;
      auto metric = counter(static_cast<double>(value));
      metric.label = {label("route", L.route(r)), label("reason", violationName(static_cast<InputViolation>(v)))};
      rejected.metric.push_back(std::move(metric));
    }
  out.push_back(std::move(rejected));

  MetricFamily bins{"infergate_input_feature_bin_total",
                    "Requests by input feature bin and model, for fleet-wide distribution and drift analysis.",
                    MetricType::Counter, {}};
  for (std::size_t f = 0; f < profile::kFeatureCount; ++f) {
    const auto feature = static_cast<profile::Feature>(f);
    for (std::uint32_t m = 0; m < L.modelCount(); ++m)
      for (std::size_t b = 0; b < bins_.binCount(feature); ++b) {
        const auto series = profile::featureBinSlot(f, m, b, L.modelCount());
        const auto value = sumOver(shards_, [&](const Shard& s) { return s.featureBins.get(series); });
        if (value == 0) continue;
        auto metric = counter(static_cast<double>(value));
        metric.label = {label("feature", profile::featureName(feature)), label("model", L.model(m)),
                        label("bin", bins_.binLabel(feature, b))};
        bins.metric.push_back(std::move(metric));
      }
  }
  out.push_back(std::move(bins));

  // Cumulative counts of ordered features (bins up to and including `le`),
  // computed here at scrape time from the same counters, so that Prometheus can
  // compute KS distances fleet-wide (PromQL cannot accumulate over bin labels).
  MetricFamily cdf{"infergate_input_feature_cdf_total",
                   "Requests with an ordered input feature at or below each bin (cumulative), by model.",
                   MetricType::Counter, {}};
  for (std::size_t f = 0; f < profile::kFeatureCount; ++f) {
    const auto feature = static_cast<profile::Feature>(f);
    if (!profile::ordered(feature)) continue;
    for (std::uint32_t m = 0; m < L.modelCount(); ++m) {
      std::vector<std::uint64_t> counts(bins_.binCount(feature));
      std::uint64_t total = 0;
      for (std::size_t b = 0; b < counts.size(); ++b) {
        const auto series = profile::featureBinSlot(f, m, b, L.modelCount());
        counts[b] = sumOver(shards_, [&](const Shard& s) { return s.featureBins.get(series); });
        total += counts[b];
      }
      if (total == 0) continue;
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < counts.size(); ++b) {
        cumulative += counts[b];
        auto metric = counter(static_cast<double>(cumulative));
        metric.label = {label("feature", profile::featureName(feature)), label("model", L.model(m)),
                        label("upto", bins_.binLabel(feature, b))};
        cdf.metric.push_back(std::move(metric));
      }
    }
  }
  out.push_back(std::move(cdf));

  MetricFamily anomalies{"infergate_input_anomalies_total",
                         "Requests with a feature bin their model's baseline never saw, by the first such feature.",
                         MetricType::Counter, {}};
  for (std::uint32_t m = 0; m < L.modelCount(); ++m)
    for (std::size_t f = 0; f < profile::kFeatureCount; ++f) {
      const auto series = m * profile::kFeatureCount + f;
      const auto value = sumOver(shards_, [&](const Shard& s) { return s.inputAnomalies.get(series); });
      if (value == 0) continue;
      auto metric = counter(static_cast<double>(value));
      metric.label = {label("model", L.model(m)), label("feature", profile::featureName(static_cast<profile::Feature>(f)))};
      anomalies.metric.push_back(std::move(metric));
    }
  out.push_back(std::move(anomalies));

  out.push_back(byPairAndCause("infergate_retries_total",
                               "Retried attempts, by route, backend tried and the reason for the retry.",
                               &Shard::retries, "reason"));

  MetricFamily tokens{"infergate_tokens_total", "Tokens reported in response usage, by backend, model and kind.",
                      MetricType::Counter, {}};
  MetricFamily noUsage{"infergate_streams_without_usage_total",
                       "Successful streams that ended without a usage report, by backend and model.",
                       MetricType::Counter, {}};
  for (std::uint32_t b = 1; b < L.backendCount(); ++b)
    for (std::uint32_t m = 0; m < L.modelCount(); ++m) {
      const auto bm = first.backendModel(b, m);
      for (int kind = 0; kind < 2; ++kind) {
        const auto v = sumOver(shards_, [&](const Shard& s) { return s.tokens.get(bm * 2 + kind); });
        if (v == 0) continue;
        auto metric = counter(static_cast<double>(v));
        metric.label = {label("backend", L.backend(b)), label("model", L.model(m)),
                        label("kind", std::string(kind == 0 ? "prompt" : "completion"))};
        tokens.metric.push_back(std::move(metric));
      }
      const auto v = sumOver(shards_, [&](const Shard& s) { return s.streamsWithoutUsage.get(bm); });
      if (v == 0) continue;
      auto metric = counter(static_cast<double>(v));
      metric.label = {label("backend", L.backend(b)), label("model", L.model(m))};
      noUsage.metric.push_back(std::move(metric));
    }
  out.push_back(std::move(tokens));
  out.push_back(std::move(noUsage));

  MetricFamily in{"infergate_request_bytes_total", "Request bytes received from clients.", MetricType::Counter, {}};
  MetricFamily outBytes{"infergate_response_bytes_total", "Response bytes sent to clients.", MetricType::Counter, {}};
  for (std::uint32_t p = 0; p < L.pairCount(); ++p) {
    const auto vin = sumOver(shards_, [&](const Shard& s) { return s.requestBytes.get(p); });
    const auto vout = sumOver(shards_, [&](const Shard& s) { return s.responseBytes.get(p); });
    if (vin == 0 && vout == 0) continue;
    auto labelsOf = std::vector<ClientMetric::Label>{label("route", L.route(L.pair(p).route)),
                                                     label("backend", L.backend(L.pair(p).backend))};
    auto a = counter(static_cast<double>(vin));
    a.label = labelsOf;
    in.metric.push_back(std::move(a));
    auto b = counter(static_cast<double>(vout));
    b.label = labelsOf;
    outBytes.metric.push_back(std::move(b));
  }
  out.push_back(std::move(in));
  out.push_back(std::move(outBytes));

  MetricFamily dropped{"infergate_access_log_dropped_total",
                       "Access log lines dropped because the writer fell behind.", MetricType::Counter, {}};
  dropped.metric.push_back(
      counter(static_cast<double>(sumOver(shards_, [](const Shard& s) { return s.accessLogDropped.get(0); }))));
  out.push_back(std::move(dropped));
}

void Registry::collectGauges(std::vector<MetricFamily>& out) const {
  const auto& L = labels_;
  auto gauge = [](double v) {
    ClientMetric m;
    m.gauge.value = v;
    return m;
  };
  MetricFamily inFlight{"infergate_in_flight_requests", "Requests being proxied now, by backend.", MetricType::Gauge, {}};
  for (std::uint32_t b = 1; b < L.backendCount(); ++b) {
    std::int64_t v = 0;
    for (const auto& s : shards_) v += s->inFlight.get(b);
    auto m = gauge(static_cast<double>(v));
    m.label = {label("backend", L.backend(b))};
    inFlight.metric.push_back(std::move(m));
  }
  out.push_back(std::move(inFlight));

  MetricFamily conns{"infergate_upstream_connections", "Upstream connections, by backend, endpoint and state.",
                     MetricType::Gauge, {}};
  for (std::uint32_t e = 1; e < L.endpointCount(); ++e) {
    std::int64_t active = 0, idle = 0;
    for (const auto& s : shards_) {
      active += s->activeConnections.get(e);
      idle += s->idleConnections.get(e);
    }
    for (int state = 0; state < 2; ++state) {
      auto m = gauge(static_cast<double>(state == 0 ? active : idle));
      m.label = {label("backend", L.backend(L.endpointBackend(e))), label("endpoint", L.endpoint(e)),
                 label("state", std::string(state == 0 ? "active" : "idle"))};
      conns.metric.push_back(std::move(m));
    }
  }
  out.push_back(std::move(conns));

  MetricFamily downstream{"infergate_downstream_connections", "Open client connections.", MetricType::Gauge, {}};
  downstream.metric.push_back(gauge(downstream_ ? downstream_() : 0));
  out.push_back(std::move(downstream));
}

void Registry::collectHistograms(std::vector<MetricFamily>& out) const {
  const auto& L = labels_;
  // Merges one histogram series across shards into Prometheus' cumulative form.
  auto merged = [this](HistogramArray Shard::*family, std::size_t series) {
    ClientMetric m;
    const auto& bounds = (shards_.front().get()->*family).bounds();
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= bounds.size(); ++b) {
      for (const auto& s : shards_) cumulative += ((*s).*family).bucket(series, b);
      m.histogram.bucket.push_back({cumulative, b < bounds.size() ? bounds[b] : std::numeric_limits<double>::infinity()});
    }
    for (const auto& s : shards_) m.histogram.sample_sum += ((*s).*family).sum(series);
    m.histogram.sample_count = cumulative;
    return m;
  };
  auto count = [this](HistogramArray Shard::*family, std::size_t series) {
    std::uint64_t n = 0;
    for (const auto& s : shards_) n += ((*s).*family).count(series);
    return n;
  };
  const auto& first = *shards_.front();

  MetricFamily duration{"infergate_request_duration_seconds",
                        "Time from a request's first byte to the last byte of its response.", MetricType::Histogram, {}};
  for (std::uint32_t p = 0; p < L.pairCount(); ++p)
    for (std::uint32_t m = 0; m < L.modelCount(); ++m) {
      const auto series = first.pairModel(p, m);
      if (count(&Shard::requestDuration, series) == 0) continue;
      auto metric = merged(&Shard::requestDuration, series);
      metric.label = {label("route", L.route(L.pair(p).route)), label("backend", L.backend(L.pair(p).backend)),
                      label("model", L.model(m))};
      duration.metric.push_back(std::move(metric));
    }
  out.push_back(std::move(duration));

  MetricFamily connect{"infergate_upstream_connect_duration_seconds", "Time to open a new upstream connection.",
                       MetricType::Histogram, {}};
  for (std::uint32_t e = 1; e < L.endpointCount(); ++e) {
    if (count(&Shard::upstreamConnect, e) == 0) continue;
    auto metric = merged(&Shard::upstreamConnect, e);
    metric.label = {label("backend", L.backend(L.endpointBackend(e))), label("endpoint", L.endpoint(e))};
    connect.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(connect));

  struct BackendModelFamily {
    const char* name;
    const char* help;
    HistogramArray Shard::*family;
  };
  for (const auto& f : {
           BackendModelFamily{"infergate_upstream_first_byte_seconds",
                              "Time from sending a request upstream to the first response byte.",
                              &Shard::upstreamFirstByte},
           BackendModelFamily{"infergate_time_to_first_token_seconds",
                              "Time from the end of a request to the first streamed event carrying content.",
                              &Shard::timeToFirstToken},
           BackendModelFamily{"infergate_inter_token_latency_seconds",
                              "Gap between consecutive streamed events carrying content.",
                              &Shard::interTokenLatency},
           BackendModelFamily{"infergate_time_per_output_token_seconds",
                              "Streaming time per output token after the first.", &Shard::timePerOutputToken},
       }) {
    MetricFamily family{f.name, f.help, MetricType::Histogram, {}};
    for (std::uint32_t b = 1; b < L.backendCount(); ++b)
      for (std::uint32_t m = 0; m < L.modelCount(); ++m) {
        const auto series = first.backendModel(b, m);
        if (count(f.family, series) == 0) continue;
        auto metric = merged(f.family, series);
        metric.label = {label("backend", L.backend(b)), label("model", L.model(m))};
        family.metric.push_back(std::move(metric));
      }
    out.push_back(std::move(family));
  }

  MetricFamily overhead{"infergate_gateway_overhead_seconds",
                        "Time a request spent in the gateway itself: not waiting on the client or the upstream.",
                        MetricType::Histogram, {}};
  for (std::uint32_t r = 0; r < L.routeCount(); ++r) {
    if (count(&Shard::gatewayOverhead, r) == 0) continue;
    auto metric = merged(&Shard::gatewayOverhead, r);
    metric.label = {label("route", L.route(r))};
    overhead.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(overhead));
}

}  // namespace infergate::metrics
