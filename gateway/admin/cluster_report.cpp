#include "gateway/admin/cluster_report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace infergate {

using State = CircuitBreaker::State;

namespace {
const char* stateName(State s) {
  switch (s) {
    case State::Closed: return "closed";
    case State::Open: return "open";
    case State::HalfOpen: return "half_open";
  }
  return "unknown";
}
}  // namespace

void declareClusterStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels,
                         const ClusterState& cluster) {
  using Zeros = metrics::FamilySpec::Zeros;
  using At = std::span<const std::uint32_t>;
  // Endpoint label e is endpoint id e - 1; backend label b is config backend b - 1.
  auto endpoint = [&cluster](At at) -> const EndpointState& { return cluster.endpoint(at[0] - 1); };
  auto backend = [&cluster](At at) -> const BackendState& { return cluster.backend(at[0] - 1); };
  // Gauges: endpoints in the config in force. Counters: every endpoint ever placed.
  auto live = [&cluster](At at) { return cluster.live(at[0] - 1); };
  registry.gaugeFrom({"infergate_circuit_state", "Circuit breaker state per endpoint: 0 closed, 1 open, 2 half-open.",
                      {labels.endpointDimension()}, Zeros::Export, live},
                     [endpoint](At at) { return static_cast<double>(static_cast<int>(endpoint(at).breaker.state())); });
  registry.counterFrom({"infergate_circuit_transitions_total", "Circuit breaker transitions, by the state entered.",
                        {labels.endpointDimension(), metrics::Dimension::of("to", {"closed", "open", "half_open"})},
                        Zeros::Export},
                       [endpoint](At at) {
                         return static_cast<double>(endpoint(at).breaker.transitionsTo(static_cast<State>(at[1])));
                       });
  // Only endpoints whose backend runs health checks have results.
  registry.counterFrom({"infergate_health_checks_total", "Active health check results.",
                        {labels.endpointDimension(), metrics::Dimension::of("result", {"failure", "success"})},
                        Zeros::Skip, [&cluster](At at) { return cluster.healthChecked(at[0] - 1); }},
                       [endpoint](At at) {
                         const auto& e = endpoint(at);
                         return static_cast<double>(at[1] ? e.healthChecksOk.load() : e.healthChecksFailed.load());
                       });
  registry.gaugeFrom({"infergate_endpoint_healthy", "1 when the endpoint passes its health checks (or has none).",
                      {labels.endpointDimension()}, Zeros::Export, live},
                     [endpoint](At at) { return endpoint(at).breaker.healthy() ? 1.0 : 0.0; });
  registry.counterFrom({"infergate_overflow_total", "Requests refused because a backend's concurrency cap was reached.",
                        {labels.backendDimension(1)}, Zeros::Export},
                       [backend](At at) { return static_cast<double>(backend(at).overflow.load()); });
  registry.counterFrom({"infergate_backend_shed_total",
                        "Requests a backend did not take because every endpoint's signals were over its shedding "
                        "bounds (shed_waiting, shed_kv_cache): sent to a fallback, or answered 503 overloaded.",
                        {labels.backendDimension(1)}, Zeros::Export},
                       [backend](At at) { return static_cast<double>(backend(at).shed.load()); });
  registry.counterFrom({"infergate_request_caused_failures_total",
                        "Endpoint failures judged the request's doing (the same failure on two endpoints), kept out "
                        "of the circuit breakers.",
                        {labels.backendDimension(1)}, Zeros::Export},
                       [backend](At at) { return static_cast<double>(backend(at).requestCausedFailures.load()); });
}

std::string backendsReport(const Runtime& runtime, const ClusterState& cluster) {
  const auto now = ClusterState::steadyNowNs();
  boost::json::array backends;
  for (std::size_t b = 0; b < runtime.backends.size(); ++b) {
    const auto& backend = runtime.backends[b];
    const auto& state = cluster.backend(b);
    boost::json::array endpoints;
    for (const auto& e : backend.endpoints) {
      const auto& endpoint = cluster.endpoint(e.id);
      const auto& breaker = endpoint.breaker;
      const auto left = breaker.state() == State::Open ? std::max<std::int64_t>(0, breaker.openUntilNs() - now) : 0;
      endpoints.push_back(boost::json::object{
          {"endpoint", e.name},
          {"state", stateName(breaker.state())},
          {"ejections", breaker.ejections()},
          {"ejected_seconds_left", static_cast<double>(left) / 1e9},
          // Open with its ejection over: only a request routed here moves it
          // to half-open, and none has come (a quiet route, or one that falls back).
          {"awaiting_probe", breaker.state() == State::Open && left == 0},
          {"healthy", breaker.healthy()},
          {"in_flight", endpoint.inFlight.load()},
          {"recent_failure_rate", breaker.recentFailureRate()},
      });
      if (endpoint.signals.configured()) {
        const auto& s = endpoint.signals;
        const bool fresh = s.fresh(now);
        const auto known = [fresh](double v) { return fresh && v >= 0 ? boost::json::value(v) : boost::json::value(nullptr); };
        endpoints.back().as_object()["signals"] = boost::json::object{
            {"fresh", fresh},
            {"requests_running", known(s.running.load())},
            {"requests_waiting", known(s.waiting.load())},
            {"kv_cache_usage", known(s.kvCacheUsage.load())},
            {"age_seconds", s.atNs.load() ? boost::json::value(static_cast<double>(now - s.atNs.load()) / 1e9)
                                          : boost::json::value(nullptr)}};
      }
    }
    const char* lb = backend.config->load_balancing == config::LoadBalancing::RoundRobin     ? "round_robin"
                     : backend.config->load_balancing == config::LoadBalancing::LeastRequest ? "least_request"
                     : backend.config->load_balancing == config::LoadBalancing::LeastLoad    ? "least_load"
                                                                                              : "weighted";
    backends.push_back(boost::json::object{
        {"name", backend.config->name},
        {"load_balancing", lb},
        {"in_flight", state.slots.inFlight()},
        {"max_in_flight", backend.config->limits.max_in_flight},
        {"pending", state.slots.waiting()},
        {"overflow", state.overflow.load()},
        {"request_caused_failures", state.requestCausedFailures.load()},
        {"ejected_endpoints", state.ejections.ejected()},
        {"endpoints", std::move(endpoints)},
    });
  }
  return boost::json::serialize(boost::json::object{{"backends", std::move(backends)}});
}

}  // namespace infergate
