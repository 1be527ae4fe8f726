#include "gateway/admin/cluster_report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace infergate {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
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

void appendClusterMetrics(const Runtime& runtime, const ClusterState& cluster, std::vector<MetricFamily>& out) {
  MetricFamily state{"infergate_circuit_state", "Circuit breaker state per endpoint: 0 closed, 1 open, 2 half-open.",
                     MetricType::Gauge, {}};
  MetricFamily transitions{"infergate_circuit_transitions_total", "Circuit breaker transitions, by the state entered.",
                           MetricType::Counter, {}};
  MetricFamily health{"infergate_health_checks_total", "Active health check results.", MetricType::Counter, {}};
  MetricFamily healthy{"infergate_endpoint_healthy", "1 when the endpoint passes its health checks (or has none).",
                       MetricType::Gauge, {}};
  MetricFamily overflow{"infergate_overflow_total", "Requests refused because a backend's concurrency cap was reached.",
                        MetricType::Counter, {}};
  MetricFamily requestCaused{"infergate_request_caused_failures_total",
                             "Endpoint failures judged the request's doing (the same failure on two endpoints), kept out "
                             "of the circuit breakers.",
                             MetricType::Counter, {}};
  for (std::size_t b = 0; b < runtime.backends.size(); ++b) {
    const auto& backend = runtime.backends[b];
    for (const auto& e : backend.endpoints) {
      const auto& endpoint = cluster.endpoint(e.id);
      const std::vector<ClientMetric::Label> labels{{"backend", backend.config->name}, {"endpoint", e.authority}};
      ClientMetric s;
      s.label = labels;
      s.gauge.value = static_cast<double>(static_cast<int>(endpoint.breaker.state()));
      state.metric.push_back(std::move(s));
      for (auto to : {State::Closed, State::Open, State::HalfOpen}) {
        ClientMetric t;
        t.label = labels;
        t.label.push_back({"to", stateName(to)});
        t.counter.value = static_cast<double>(endpoint.breaker.transitionsTo(to));
        transitions.metric.push_back(std::move(t));
      }
      if (backend.config->health_check.enabled) {
        for (int ok = 0; ok < 2; ++ok) {
          ClientMetric h;
          h.label = labels;
          h.label.push_back({"result", ok ? "success" : "failure"});
          h.counter.value = static_cast<double>(ok ? endpoint.healthChecksOk.load() : endpoint.healthChecksFailed.load());
          health.metric.push_back(std::move(h));
        }
      }
      ClientMetric up;
      up.label = labels;
      up.gauge.value = endpoint.breaker.healthy() ? 1 : 0;
      healthy.metric.push_back(std::move(up));
    }
    ClientMetric o;
    o.label = {{"backend", backend.config->name}};
    o.counter.value = static_cast<double>(cluster.backend(b).overflow.load());
    overflow.metric.push_back(std::move(o));
    ClientMetric rc;
    rc.label = {{"backend", backend.config->name}};
    rc.counter.value = static_cast<double>(cluster.backend(b).requestCausedFailures.load());
    requestCaused.metric.push_back(std::move(rc));
  }
  out.push_back(std::move(state));
  out.push_back(std::move(transitions));
  out.push_back(std::move(health));
  out.push_back(std::move(healthy));
  out.push_back(std::move(overflow));
  out.push_back(std::move(requestCaused));
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
          {"endpoint", e.authority},
          {"state", stateName(breaker.state())},
          {"ejections", breaker.ejections()},
          {"ejected_seconds_left", static_cast<double>(left) / 1e9},
          {"healthy", breaker.healthy()},
          {"in_flight", endpoint.inFlight.load()},
          {"recent_failure_rate", breaker.recentFailureRate()},
      });
    }
    const char* lb = backend.config->load_balancing == config::LoadBalancing::RoundRobin     ? "round_robin"
                     : backend.config->load_balancing == config::LoadBalancing::LeastRequest ? "least_request"
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
