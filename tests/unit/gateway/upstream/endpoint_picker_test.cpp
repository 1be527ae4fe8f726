#include "gateway/upstream/endpoint_picker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "config/loader.hpp"

using namespace infergate;

namespace {
std::shared_ptr<const Runtime> runtimeWith(const std::string& policy) {
  auto loaded = config::loadString("backends:\n  - name: b\n    load_balancing: " + policy +
                                       "\n    circuit_breaker: {consecutive_failures: 1, max_ejected_percent: 100}\n"
                                       "    endpoints:\n      - {url: 'http://127.0.0.1:1', weight: 2}\n"
                                       "      - {url: 'http://127.0.0.1:2'}\n      - {url: 'http://127.0.0.1:3'}\n"
                                       "routes:\n  - name: r\n    backend: b\n",
                                   "t.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0]);
  std::string error;
  return buildRuntime(loaded.config, error);
}
}  // namespace

TEST(EndpointPicker, RoundRobinSkipsOpenAndTriedEndpoints) {
  auto runtime = runtimeWith("round_robin");
  ClusterState cluster(*runtime);
  EndpointPicker picker(*runtime, cluster, 1);
  EndpointSet tried;
  cluster.endpoint(1).breaker.onFailure(cluster.endpoint(1).breaker.admit());  // opens endpoint 1
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 10; ++i) seen[picker.pick(runtime->backends[0], 0, tried).endpoint->id]++;
  EXPECT_EQ(seen[1], 0);
  EXPECT_EQ(seen[0], 5);
  EXPECT_EQ(seen[2], 5);
  tried.add(0);
  EXPECT_EQ(picker.pick(runtime->backends[0], 0, tried).endpoint->id, 2u);
  tried.add(2);
  EXPECT_EQ(picker.pick(runtime->backends[0], 0, tried).endpoint, nullptr);  // only the open one is left
}

TEST(EndpointPicker, LeastRequestAvoidsTheBusiestEndpoint) {
  auto runtime = runtimeWith("least_request");
  ClusterState cluster(*runtime);
  EndpointPicker picker(*runtime, cluster, 42);
  cluster.endpoint(0).inFlight = 50;
  cluster.endpoint(1).inFlight = 10;
  cluster.endpoint(2).inFlight = 0;
  EndpointSet tried;
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 900; ++i) seen[picker.pick(runtime->backends[0], 0, tried).endpoint->id]++;
  // With two random choices the busiest wins only when drawn twice (1/9).
  EXPECT_LT(seen[0], 150);
  EXPECT_GT(seen[2], seen[1]);
  EXPECT_GT(seen[2], 400);
}

TEST(EndpointPicker, WeightedFollowsWeightsSmoothly) {
  auto runtime = runtimeWith("weighted");
  ClusterState cluster(*runtime);
  EndpointPicker picker(*runtime, cluster, 1);
  EndpointSet tried;
  std::string order;
  for (int i = 0; i < 8; ++i) order += std::to_string(picker.pick(runtime->backends[0], 0, tried).endpoint->id);
  EXPECT_EQ(std::count(order.begin(), order.end(), '0'), 4);
  EXPECT_EQ(std::count(order.begin(), order.end(), '1'), 2);
  EXPECT_EQ(std::count(order.begin(), order.end(), '2'), 2);
}
