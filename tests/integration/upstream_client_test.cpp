// The gateway's own requests upstream (judge, health checks) go through the
// same picker, breakers and connection pool as client traffic: real sockets to
// the real mock model server, the client in this process.
#include "gateway/upstream/upstream_client.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;
using infergate::UpstreamClient;
using Outcome = UpstreamClient::Response::Outcome;

namespace {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigKnobs k;
    k.backendExtra = "    circuit_breaker: {consecutive_failures: 2, base_ejection: 30s, max_ejected_percent: 100}\n";
    auto loaded = infergate::config::loadString(standardConfig(mock.port(), k), "inline.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.errors[0];
    std::string error;
    runtime = infergate::buildRuntime(std::move(loaded.config), error);
    ASSERT_TRUE(runtime) << error;
    cluster = std::make_unique<infergate::ClusterState>(*runtime);
    client = std::make_unique<UpstreamClient>(io, runtime, *cluster);
  }

  // Runs the io_context until the request is answered.
  UpstreamClient::Response call(UpstreamClient::Request request, bool toEndpoint = false) {
    std::optional<UpstreamClient::Response> out;
    auto done = [&out](UpstreamClient::Response r) { out = std::move(r); };
    if (toEndpoint) client->sendTo(runtime->backends[0].endpoints[0], 0, std::move(request), done);
    else client->send(0, std::move(request), done);
    while (!out) io.run_one();
    return *out;
  }
  static UpstreamClient::Request chatRequest() {
    UpstreamClient::Request r;
    r.method = boost::beast::http::verb::post;
    r.target = "/v1/chat/completions";
    r.body = chatBody("mock-model");
    return r;
  }
  std::uint64_t mockStat(const char* name) { return mock.stats().at(name).to_number<std::uint64_t>(); }
  void setMock(const std::string& query) {
    ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?" + query, "{}")).status, 200);
  }

  MockServer mock;
  boost::asio::io_context io;
  std::shared_ptr<const infergate::Runtime> runtime;
  std::unique_ptr<infergate::ClusterState> cluster;
  std::unique_ptr<UpstreamClient> client;
};

}  // namespace

TEST_F(ClientTest, ReusesPooledConnections) {
  const auto before = mockStat("connections");
  for (int i = 0; i < 3; ++i) {
    auto r = call(chatRequest());
    EXPECT_EQ(r.outcome, Outcome::Ok);
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find("\"choices\""), std::string::npos);
  }
  EXPECT_EQ(mockStat("connections") - before, 1u);  // one connection, kept alive across the three
}

TEST_F(ClientTest, FailuresOpenTheBackendsBreakerWhichThenRefusesWithoutConnecting) {
  setMock("status=500");
  EXPECT_EQ(call(chatRequest()).status, 500u);
  EXPECT_EQ(call(chatRequest()).status, 500u);
  const auto& endpoint = runtime->backends[0].endpoints[0];
  EXPECT_EQ(cluster->endpoint(endpoint.id).breaker.state(), infergate::CircuitBreaker::State::Open);
  const auto seen = mockStat("requests");
  EXPECT_EQ(call(chatRequest()).outcome, Outcome::CircuitOpen);
  EXPECT_EQ(mockStat("requests"), seen);
  // A request to the endpoint itself (a health check) still reaches it.
  UpstreamClient::Request health;
  health.target = "/health";
  const auto probed = call(health, true);
  EXPECT_EQ(probed.outcome, Outcome::Ok);
  EXPECT_EQ(probed.status, 200u);
}

TEST_F(ClientTest, ASlowAnswerTimesOut) {
  setMock("latency-ms=500");
  auto request = chatRequest();
  request.timeout = std::chrono::milliseconds(100);
  EXPECT_EQ(call(request).outcome, Outcome::Timeout);
}
