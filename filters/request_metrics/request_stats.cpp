#include "filters/request_metrics/request_stats.hpp"

namespace infergate::metrics {

namespace {
std::shared_ptr<const std::vector<double>> bounds(const std::vector<double>& b) {
  return std::make_shared<const std::vector<double>>(b);
}
}  // namespace

Dimension causeDimension(const char* name) {
  std::vector<std::string> causes;
  for (std::uint32_t c = 0; c < static_cast<std::uint32_t>(FailureCause::Count); ++c)
    causes.emplace_back(causeName(static_cast<FailureCause>(c)));
  return Dimension::of(name, std::move(causes), 1);
}

RequestStats::RequestStats(StatsRegistry& r, const LabelSpace& l, const config::HistogramBuckets& b) {
  using Zeros = FamilySpec::Zeros;
  // Series whose labels follow from config are exported at zero from the start
  // (LabelSpace::routeServesModel): the failures of configured routes, and the
  // tokens and usage-less streams of the models a backend can serve.
  auto configuredPair = [this, &l](std::span<const std::uint32_t> at) {
    return failures.total({at[0], at[1]}) != 0 || l.configuredRoute(l.pair(at[0]).route);
  };
  auto servedModel = [&l](std::span<const std::uint32_t> at) {
    return at[1] != LabelSpace::kNone && l.backendServesModel(at[0], at[1]);
  };
  requests = r.counter<3>({"infergate_requests_total", "Requests answered, by route, backend, model and status code.",
                           {l.pairDimension(), l.modelDimension(), LabelSpace::codeDimension()}});
  failures = r.counter<2>({"infergate_failures_total", "Failed requests, by route, backend and cause.",
                           {l.pairDimension(), causeDimension("cause")}, Zeros::Skip, configuredPair});
  tokens = r.counter<3>({"infergate_tokens_total", "Tokens reported in response usage, by backend, model and kind.",
                         {l.backendDimension(1), l.modelDimension(), Dimension::of("kind", {"prompt", "completion"})},
                         Zeros::Skip,
                         [this, servedModel](std::span<const std::uint32_t> at) {
                           return tokens.total({at[0], at[1], at[2]}) != 0 || servedModel(at);
                         }});
  streamsWithoutUsage = r.counter<2>({"infergate_streams_without_usage_total",
                                      "Streams that ended normally (status 200, no failure) without a usage report, by backend and model.",
                                      {l.backendDimension(1), l.modelDimension()}, Zeros::Skip,
                                      [this, servedModel](std::span<const std::uint32_t> at) {
                                        return streamsWithoutUsage.total({at[0], at[1]}) != 0 || servedModel(at);
                                      }});
  // A pair's byte counters appear together, once either has a value.
  auto eitherBytes = [this](std::span<const std::uint32_t> at) {
    return requestBytes.total({at[0]}) != 0 || responseBytes.total({at[0]}) != 0;
  };
  requestBytes = r.counter<1>(
      {"infergate_request_bytes_total", "Request bytes received from clients.", {l.pairDimension()}, Zeros::Skip,
       eitherBytes});
  responseBytes = r.counter<1>(
      {"infergate_response_bytes_total", "Response bytes sent to clients.", {l.pairDimension()}, Zeros::Skip,
       eitherBytes});
  requestDuration =
      r.histogram<2>({"infergate_request_duration_seconds",
                      "Time from a request's first byte to the last byte of its response.",
                      {l.pairDimension(), l.modelDimension()}},
                     bounds(b.request_duration));
  upstreamConnect = r.histogram<1>(
      {"infergate_upstream_connect_duration_seconds",
       "Time to open a new upstream connection: the TCP connect (for https:// endpoints, without the handshake).",
       {l.endpointDimension()}},
      bounds(b.upstream_connect));
  tlsHandshake = r.histogram<1>({"infergate_upstream_tls_handshake_duration_seconds",
                                 "Time of the TLS handshake of a new connection to an https:// endpoint.",
                                 {l.endpointDimension()}},
                                bounds(b.upstream_connect));
  auto backendModel = [&l](const char* name, const char* help) {
    return FamilySpec{name, help, {l.backendDimension(1), l.modelDimension()}};
  };
  upstreamFirstByte = r.histogram<2>(backendModel("infergate_upstream_first_byte_seconds",
                                                  "Time from sending a request upstream to the first response byte."),
                                     bounds(b.upstream_first_byte));
  timeToFirstToken = r.histogram<2>(
      backendModel("infergate_time_to_first_token_seconds",
                   "Time from the end of a request to the first streamed event carrying content."),
      bounds(b.time_to_first_token));
  interTokenLatency = r.histogram<2>(
      backendModel("infergate_inter_token_latency_seconds", "Gap between consecutive streamed events carrying content."),
      bounds(b.inter_token_latency));
  timePerOutputToken = r.histogram<2>(
      backendModel("infergate_time_per_output_token_seconds", "Streaming time per output token after the first."),
      bounds(b.time_per_output_token));
  gatewayOverhead = r.histogram<1>(
      {"infergate_gateway_overhead_seconds",
       "Time a request spent in the gateway itself: not waiting on the client or the upstream.",
       {l.routeDimension()}},
      bounds(b.gateway_overhead));
}

}  // namespace infergate::metrics
