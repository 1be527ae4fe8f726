#include "gateway/upstream/cluster_state.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "metrics/label_space.hpp"

using namespace infergate;

namespace {

config::Config load(const std::string& endpoints, const std::string& backendExtra = "") {
  auto r = config::loadString("backends:\n  - name: b\n    endpoints: [" + endpoints +
                                  "]\n    circuit_breaker: {consecutive_failures: 1, max_ejected_percent: 100}\n" +
                                  backendExtra + "routes:\n  - name: r\n    backend: b\n",
                              "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  return r.config;
}

// Ids as a reload gives them: by (backend, authority), from the label space.
std::shared_ptr<const Runtime> placed(config::Config c, metrics::LabelSpace& labels) {
  std::string error;
  auto runtime = buildRuntime(std::move(c), error, nullptr, [&](std::size_t b, const std::string& authority) {
    auto index = labels.placeEndpoint(metrics::LabelSpace::backendIndex(b), authority);
    return index ? std::optional<std::size_t>(*index - 1) : std::nullopt;
  });
  EXPECT_TRUE(runtime) << error;
  return runtime;
}

}  // namespace

TEST(ClusterState, AReloadKeepsTheStateOfEndpointsThatStayAndMakesTheNewOnes) {
  const auto first = load("{url: 'http://127.0.0.1:1'}, {url: 'http://127.0.0.1:2'}");
  metrics::LabelSpace labels(first);
  auto start = placed(first, labels);
  ClusterState cluster(*start);
  auto& breaker = cluster.endpoint(1).breaker;  // 127.0.0.1:2
  breaker.onFailure(breaker.admit());
  ASSERT_EQ(breaker.state(), CircuitBreaker::State::Open);
  cluster.endpoint(0).inFlight = 3;

  // :1 goes, :2 stays, :3 comes; the cap changes.
  auto next = placed(load("{url: 'http://127.0.0.1:2'}, {url: 'http://127.0.0.1:3'}", "    limits: {max_in_flight: 1}\n"),
                     labels);
  ASSERT_EQ(next->backends[0].endpoints[0].id, 1u);
  ASSERT_EQ(next->backends[0].endpoints[1].id, 2u);
  cluster.adopt(*next);
  EXPECT_EQ(&cluster.endpoint(1).breaker, &breaker);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::Open);
  EXPECT_EQ(cluster.endpoint(2).breaker.state(), CircuitBreaker::State::Closed);
  EXPECT_EQ(cluster.endpoint(2).address.current().port(), 3);
  EXPECT_EQ(cluster.endpoint(0).inFlight.load(), 3);  // requests still on the removed one count down there
  EXPECT_FALSE(cluster.live(0));
  EXPECT_TRUE(cluster.live(1));
  EXPECT_TRUE(cluster.live(2));
  EXPECT_TRUE(cluster.backend(0).slots.tryAcquire());
  EXPECT_FALSE(cluster.backend(0).slots.tryAcquire());  // max_in_flight 1 now
}

// An endpoint a reload removes gives its ejection back: the endpoints in force
// can still be ejected. Brought back, it counts again.
TEST(ClusterState, ARemovedOpenEndpointLeavesTheEjectionBudget) {
  const auto first = load("{url: 'http://127.0.0.1:1'}");
  metrics::LabelSpace labels(first);
  auto start = placed(first, labels);
  ClusterState cluster(*start);
  auto& a = cluster.endpoint(0).breaker;
  a.onFailure(a.admit());
  ASSERT_EQ(a.state(), CircuitBreaker::State::Open);
  ASSERT_EQ(cluster.backend(0).ejections.ejected(), 1u);

  auto onlyB = placed(load("{url: 'http://127.0.0.1:2'}"), labels);
  cluster.adopt(*onlyB);
  EXPECT_EQ(a.state(), CircuitBreaker::State::Closed);
  EXPECT_EQ(cluster.backend(0).ejections.ejected(), 0u);
  auto& b = cluster.endpoint(1).breaker;
  b.onFailure(b.admit());
  EXPECT_EQ(b.state(), CircuitBreaker::State::Open);  // the budget (one endpoint) was free
  a.onFailure(a.admit());  // a request still on the removed one fails: its breaker takes no budget
  EXPECT_EQ(cluster.backend(0).ejections.ejected(), 1u);

  auto both = placed(load("{url: 'http://127.0.0.1:1'}, {url: 'http://127.0.0.1:2'}"), labels);
  cluster.adopt(*both);
  EXPECT_EQ(cluster.backend(0).ejections.ejected(), 2u);  // both open, both counted
}
