// Reloads that put routes and backends in force (a new config generation):
// an added endpoint takes traffic, a removed one is drained (its stream
// completes, its idle connections close, its gauges go), an endpoint that
// stays keeps its breaker, route settings change for new requests, and what
// would change a series' meaning (a renamed route, too many endpoints) is
// refused with the reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

boost::json::object reload(Gateway& gw, unsigned expectStatus = 200) {
  const auto r = request(gw.adminPort(), jsonPost("/admin/reload", "{}"));
  EXPECT_EQ(r.status, expectStatus) << r.body;
  return boost::json::parse(r.body).as_object();
}

std::uint64_t served(MockServer& mock) { return mock.stats().at("requests").to_number<std::uint64_t>(); }

std::string endpointLine(std::uint16_t port) { return "      - url: http://127.0.0.1:" + std::to_string(port) + "\n"; }

// The endpoints of backend "mock" in the config: the standard one's line replaced by `lines`.
std::string withEndpoints(const std::string& yaml, std::uint16_t standardPort, const std::string& lines) {
  return replacedOnce(yaml, endpointLine(standardPort), lines);
}

std::string chat(Gateway& gw, std::vector<std::string> headers = {}) {
  const auto r = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), std::move(headers)));
  return std::to_string(r.status);
}

}  // namespace

TEST(ConfigGeneration, AnAddedEndpointTakesTrafficAndARemovedOneIsDrained) {
  MockServer a, b;
  ConfigKnobs k;
  k.workers = 2;
  const auto yaml = standardConfig(a.port(), k);
  Gateway gw(yaml);
  // A stream on A that lasts across the reload (20 tokens, 50 ms apart),
  // then requests beside it: whichever worker takes them, the stream's
  // connection is busy, so they leave at least one idle connection to A
  // (before the stream, the stream could take the only idle one).
  Connection stream(gw.port());
  stream.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                       {"x-mock-tokens: 20", "x-mock-inter-token-ms: 50"}));
  usleep(100'000);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(chat(gw), "200");
  usleep(50'000);
  ASSERT_EQ(served(a), 5u);
  ASSERT_GE(a.stats().at("open_connections").to_number<std::int64_t>(), 2);  // the stream's, and idle ones

  // A out, B in.
  rewriteFile(gw.configPath(), withEndpoints(yaml, a.port(), endpointLine(b.port())));
  auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  ASSERT_EQ(json.at("applied").as_array().size(), 1u) << json;
  EXPECT_EQ(json.at("applied").as_array()[0].as_string(), "backends");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(chat(gw), "200") << i;
  EXPECT_EQ(served(b), 10u);
  EXPECT_EQ(served(a), 5u);  // nothing new went to the removed endpoint

  // The stream finishes on the config it started on.
  const auto s = stream.read(std::chrono::seconds(5));
  EXPECT_EQ(s.status, 200);
  EXPECT_TRUE(s.complete);
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
  // A's connections close (the idle ones at the reload, the stream's when it ended).
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = a.stats().at("open_connections").to_number<std::int64_t>() == 0;
    if (!closed) usleep(20'000);
  }
  EXPECT_TRUE(closed) << boost::json::serialize(a.stats());

  // Gauges follow the config in force; A's counters stay (Prometheus must not see them go back).
  auto text = scrape(gw.adminPort());
  const auto aLabels = R"({backend="mock",endpoint="127.0.0.1:)" + std::to_string(a.port()) + "\"}";
  const auto bLabels = R"({backend="mock",endpoint="127.0.0.1:)" + std::to_string(b.port()) + "\"}";
  EXPECT_EQ(text.find("infergate_circuit_state" + aLabels), std::string::npos) << text;
  EXPECT_EQ(seriesValue(text, "infergate_circuit_state" + bLabels), 0);
  EXPECT_NE(text.find(R"(infergate_circuit_transitions_total{backend="mock",endpoint="127.0.0.1:)" +
                      std::to_string(a.port())),
            std::string::npos);
  auto backends = request(gw.adminPort(), simpleGet("/admin/backends")).body;
  EXPECT_EQ(backends.find("127.0.0.1:" + std::to_string(a.port())), std::string::npos) << backends;
  EXPECT_NE(backends.find("127.0.0.1:" + std::to_string(b.port())), std::string::npos) << backends;

  // Both again: A comes back under its old series, and round robin uses both.
  rewriteFile(gw.configPath(), withEndpoints(yaml, a.port(), endpointLine(a.port()) + endpointLine(b.port())));
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(chat(gw), "200") << i;
  EXPECT_GE(served(a), 5u + 6u);
  EXPECT_GE(served(b), 10u + 6u);
  text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_circuit_state" + aLabels), 0);
}

TEST(ConfigGeneration, AnEndpointThatStaysKeepsItsOpenBreaker) {
  MockServer good, added;
  ClosedPort dead;
  ConfigKnobs k;
  k.extraEndpointPorts = {dead.port()};
  k.backendExtra = "    circuit_breaker: {consecutive_failures: 1, base_ejection: 60s, max_ejected_percent: 100}\n";
  const auto yaml = standardConfig(good.port(), k);
  Gateway gw(yaml);
  // The refused connect opens the dead endpoint's breaker; the retry serves the request.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(chat(gw), "200");
  const auto deadLabels = R"({backend="mock",endpoint="127.0.0.1:)" + std::to_string(dead.port()) + "\"}";
  ASSERT_EQ(seriesValue(scrape(gw.adminPort()), "infergate_circuit_state" + deadLabels), 1);
  const auto opened =
      seriesValue(scrape(gw.adminPort()), R"(infergate_circuit_transitions_total{backend="mock",endpoint="127.0.0.1:)" +
                                              std::to_string(dead.port()) + R"(",to="open"})");

  // A third endpoint and new retry settings: the dead one is still open (not retried from scratch).
  auto next = replacedOnce(yaml, endpointLine(dead.port()), endpointLine(dead.port()) + endpointLine(added.port()));
  next = replacedOnce(next, "    circuit_breaker:", "    retry: {max_attempts: 3}\n    circuit_breaker:");
  rewriteFile(gw.configPath(), next);
  const auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(chat(gw), "200") << i;
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_circuit_state" + deadLabels), 1);
  EXPECT_EQ(seriesValue(text, R"(infergate_circuit_transitions_total{backend="mock",endpoint="127.0.0.1:)" +
                                  std::to_string(dead.port()) + R"(",to="open"})"),
            opened);
  EXPECT_GE(served(added), 4u);
  EXPECT_EQ(served(good) + served(added), 14u);
}

TEST(ConfigGeneration, RouteSettingsAndLimitsChangeForNewRequests) {
  MockServer mock;
  const auto yaml = standardConfig(mock.port());
  Gateway gw(yaml);
  const std::string twoMessages =
      R"({"model":"mock-model","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})";
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", twoMessages)).status, 200);

  // Validation tightened on route chat, and the route renames the model.
  auto next = replacedOnce(yaml, "    backend: mock\n",
                       "    backend: mock\n    rename_model: mock-renamed\n    validation: {max_messages: 1}\n");
  rewriteFile(gw.configPath(), next);
  auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  const auto refused = request(gw.port(), jsonPost("/v1/chat/completions", twoMessages));
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("messages"), std::string::npos) << refused.body;
  ASSERT_EQ(chat(gw), "200");
  const std::string forwarded(mock.stats().at("last_request_body").as_string());
  EXPECT_NE(forwarded.find(R"("model":"mock-renamed")"), std::string::npos) << forwarded;

  // A route's own rate limits: in force at once; unchanged by a later reload, they keep their budget.
  auto limited = replacedOnce(next, "validation: {max_messages: 1}",
                          "validation: {max_messages: 2}\n    rate_limits: {requests_per_minute: 2}");
  rewriteFile(gw.configPath(), limited);
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", twoMessages)).status, 200);
  rewriteFile(gw.configPath(), replacedOnce(limited, "rename_model: mock-renamed", "rename_model: mock-renamed-again"));
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", twoMessages)).status, 200);
  const auto limitedOut = request(gw.port(), jsonPost("/v1/chat/completions", twoMessages));
  EXPECT_EQ(limitedOut.status, 429) << limitedOut.body;  // the budget of 2 carried across the reload
  EXPECT_NE(limitedOut.body.find("rate_limit_exceeded"), std::string::npos) << limitedOut.body;
  // Limits taken away: served again.
  rewriteFile(gw.configPath(), next);
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  EXPECT_EQ(chat(gw), "200");
}

TEST(ConfigGeneration, ChangesThatWouldMoveSeriesAreRefusedWithTheReason) {
  MockServer a, b, c;
  ConfigKnobs k;
  k.serverExtra = "  max_endpoints: 2\n";
  const auto yaml = standardConfig(a.port(), k);
  Gateway gw(yaml);

  // A renamed route: every series of it would change its meaning.
  rewriteFile(gw.configPath(), replacedOnce(yaml, "name: chat", "name: talk"));
  auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "restart_required") << json;
  EXPECT_NE(std::string(json.at("restart_reason").as_string()).find("routes would become [talk, models]"),
            std::string::npos)
      << json;

  // B placed (2 of 2), then C: no room left. Refused whole; A and B still serve.
  rewriteFile(gw.configPath(), withEndpoints(yaml, a.port(), endpointLine(a.port()) + endpointLine(b.port())));
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  rewriteFile(gw.configPath(), withEndpoints(yaml, a.port(), endpointLine(c.port())));
  json = reload(gw, 400);
  EXPECT_EQ(json.at("result").as_string(), "failed") << json;
  EXPECT_NE(boost::json::serialize(json).find("server.max_endpoints (2)"), std::string::npos) << json;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(chat(gw), "200");
  EXPECT_EQ(served(c), 0u);
  EXPECT_EQ(served(a) + served(b), 6u);
  EXPECT_GE(served(b), 2u);
}

// The sampling decisions (rate, always) come with a generation; the
// pipeline's own keys need a restart.
TEST(ConfigGeneration, SamplingDecisionsChangeForNewRequests) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\nsampling:\n  rate: 0\n  max_per_minute: 6000\n";
  const auto yaml = standardConfig(mock.port(), k);
  Gateway gw(yaml);
  const auto sampled = [&] {
    return seriesValue(scrape(gw.adminPort()), R"(infergate_output_samples_total{model="mock-model"})");
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(chat(gw), "200");
  usleep(200'000);
  EXPECT_EQ(sampled(), 0);

  rewriteFile(gw.configPath(), replacedOnce(yaml, "rate: 0", "rate: 1"));
  auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  EXPECT_EQ(json.at("applied").as_array().at(0).as_string(), "sampling") << json;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(chat(gw), "200");
  double n = 0;
  for (int i = 0; i < 100 && n < 5; ++i) {
    n = sampled();
    if (n < 5) usleep(20'000);
  }
  EXPECT_EQ(n, 5);

  // The budget is the pipeline's: named, not in force.
  rewriteFile(gw.configPath(), replacedOnce(replacedOnce(yaml, "rate: 0", "rate: 1"), "max_per_minute: 6000", "max_per_minute: 60"));
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "restart_required") << json;
  ASSERT_EQ(json.at("restart_required").as_array().size(), 1u) << json;
  EXPECT_EQ(json.at("restart_required").as_array()[0].as_string(), "sampling.max_per_minute");
}

// The gateway's own limits change in place; the store does not.
TEST(ConfigGeneration, GlobalLimitsChangeForNewRequests) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "rate_limits:\n  global: {requests_per_minute: 1000}\n";
  const auto yaml = standardConfig(mock.port(), k);
  Gateway gw(yaml);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(gw), "200");
  rewriteFile(gw.configPath(), replacedOnce(yaml, "requests_per_minute: 1000", "requests_per_minute: 1"));
  auto json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "ok") << json;
  EXPECT_EQ(chat(gw), "200");  // a changed limit starts whole
  EXPECT_EQ(chat(gw), "429");
  rewriteFile(gw.configPath(), replacedOnce(yaml, "global: {requests_per_minute: 1000}\n",
                                    "global: {requests_per_minute: 1}\n  store: redis\n"));
  json = reload(gw);
  EXPECT_EQ(json.at("result").as_string(), "restart_required") << json;
  ASSERT_EQ(json.at("restart_required").as_array().size(), 1u) << json;
  EXPECT_EQ(json.at("restart_required").as_array().at(0).as_string(), "rate_limits.store") << json;
  EXPECT_EQ(chat(gw), "429");  // nothing of the section applied: the limit of 1 holds
}
