// When the gateway itself runs out of file descriptors, that is the gateway's
// overload, not the model server's failure: the excess gets 503 overloaded,
// the endpoint's breaker stays closed, and service comes back as soon as the
// clients leave. The gateway runs under a small descriptor limit (prlimit).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {
Response chat(std::uint16_t port) {
  return request(port, jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(10));
}
}  // namespace

TEST(ResourceLimits, RunningOutOfDescriptorsIsTheGatewaysOverloadNotTheEndpointsFailure) {
  MockServer mock;
  ConfigKnobs k;
  k.backendExtra = "    circuit_breaker: {consecutive_failures: 3}\n";
  Gateway gateway(standardConfig(mock.port(), k), {}, {"/usr/bin/prlimit", "--nofile=48:48", "--"});
  ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?latency-ms=500", "{}")).status, 200);

  constexpr int kClients = 60;  // far more than 48 descriptors carry (two per request)
  std::vector<Response> results(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back([&, i] { results[i] = chat(gateway.port()); });
  for (auto& t : clients) t.join();

  int ok = 0, overloaded = 0;
  for (const auto& r : results) {
    if (r.status == 200) ++ok;
    else if (r.status == 503 && boost::json::parse(r.body).at("error").at("code").as_string() == "overloaded") ++overloaded;
  }
  EXPECT_EQ(ok + overloaded, kClients) << "every client gets an answer";
  EXPECT_GT(ok, 0);
  EXPECT_GT(overloaded, 0) << "the limit was not reached: the test proves nothing";

  // The endpoint was never at fault: its breaker is closed and it serves at once.
  ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?latency-ms=0", "{}")).status, 200);
  auto backends = boost::json::parse(request(gateway.adminPort(), simpleGet("/admin/backends")).body);
  const auto& endpoint = backends.at("backends").as_array()[0].at("endpoints").as_array()[0];
  EXPECT_EQ(endpoint.at("state").as_string(), "closed");
  EXPECT_EQ(chat(gateway.port()).status, 200);
  const auto text = scrapeAfter(gateway.adminPort(), kClients + 1);
  EXPECT_EQ(seriesValue(text, R"(infergate_failures_total{route="chat",backend="mock",cause="gateway_resources_exhausted"})"),
            overloaded);
  EXPECT_EQ(seriesValue(text, R"(infergate_failures_total{route="chat",backend="mock",cause="upstream_connect_error"})"), 0);
  EXPECT_NE(gateway.process().stderrText().find("open_files=48"), std::string::npos);
}
