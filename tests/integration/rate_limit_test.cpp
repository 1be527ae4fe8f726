// Rate limits end to end: per key, per route and global scopes on a real
// gateway in front of the mock, token budgets settled with the mock's real
// usage, concurrency caps, the 429 reply and its headers, and the metrics.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <future>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

const std::string kKey = "sk-limited-team-0123456789ab";

Response chat(std::uint16_t port, unsigned maxTokens, std::vector<std::string> headers = {}) {
  headers.push_back("Authorization: Bearer " + kKey);
  return request(port, jsonPost("/v1/chat/completions",
                                R"({"model":"mock-model","max_tokens":)" + std::to_string(maxTokens) +
                                    R"(,"messages":[{"role":"user","content":"hi"}]})",
                                std::move(headers)));
}

std::string headerOf(const Response& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

}  // namespace

TEST(RateLimits, AKeysRequestsPerMinuteHoldAndTheRefusalSaysWhy) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "auth:\n  keys:\n    - name: limited\n      key: ${LIMITED_KEY}\n      limits:\n"
               "        requests_per_minute: 4\n";
  Gateway gw(standardConfig(mock.port(), k), {"LIMITED_KEY=" + kKey});
  for (int i = 0; i < 4; ++i) {
    const auto r = chat(gw.port(), 10);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(headerOf(r, "x-ratelimit-limit-requests"), "4");
    EXPECT_EQ(headerOf(r, "x-ratelimit-remaining-requests"), std::to_string(3 - i));
  }
  const auto refused = chat(gw.port(), 10);
  ASSERT_EQ(refused.status, 429);
  const auto error = boost::json::parse(refused.body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(error.at("type").as_string(), "requests");
  EXPECT_GE(std::stoi(headerOf(refused, "retry-after")), 1);
  EXPECT_LE(std::stoi(headerOf(refused, "retry-after")), 15);  // one request back every 15 s
  EXPECT_EQ(headerOf(refused, "x-ratelimit-remaining-requests"), "0");
  const auto text = scrapeAfter(gw.adminPort(), 5);
  EXPECT_EQ(seriesValue(text, "infergate_rate_limited_total{route=\"chat\",key=\"limited\",kind=\"requests\"}"), 1);
  EXPECT_EQ(seriesValue(text, "infergate_rate_limit_remaining{key=\"limited\",kind=\"requests\"}"), 0);
  // The refused request never reached the model server.
  EXPECT_EQ(mock.stats().at("requests").as_int64(), 4);
}

TEST(RateLimits, TokensAreChargedByEstimateAndSettledWithRealUsage) {
  MockServer mock;  // answers 16 completion tokens whatever max_tokens says
  ConfigKnobs k;
  k.topLevel = "auth:\n  keys:\n    - name: tokens\n      key: ${LIMITED_KEY}\n      limits:\n"
               "        tokens_per_minute: 1000\n";
  Gateway gw(standardConfig(mock.port(), k), {"LIMITED_KEY=" + kKey});
  // Each asks for up to 700 tokens: admitted on the estimate (about 701), then
  // settled with the mock's usage (about 40: its prompt count and 16). Without
  // settling, the second would already be refused.
  for (int i = 0; i < 5; ++i) {
    const auto r = chat(gw.port(), 700);
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
  }
  const auto text = scrapeAfter(gw.adminPort(), 5);
  const auto left = seriesValue(text, "infergate_rate_limit_remaining{key=\"tokens\",kind=\"tokens\"}");
  EXPECT_GT(left, 701) << "usage did not settle the estimates";
  EXPECT_LT(left, 1000);
  // An estimate over what is left is refused, as tokens.
  const auto refused = chat(gw.port(), 999);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(boost::json::parse(refused.body).at("error").at("type").as_string(), "tokens");
  EXPECT_EQ(headerOf(refused, "x-ratelimit-limit-tokens"), "1000");
}

TEST(RateLimits, ARoutesConcurrencyCapRefusesOnlyWhileFull) {
  MockServer mock;
  ConfigKnobs k;
  k.firstToken = "5s";
  k.routes = "routes:\n  - name: chat\n    path_prefix: /v1/\n    backend: mock\n    rate_limits:\n      concurrent: 1\n";
  Gateway gw(standardConfig(mock.port(), k));
  auto slow = std::async(std::launch::async, [&] {
    return request(gw.port(), jsonPost("/v1/chat/completions",
                                       R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})",
                                       {"x-mock-latency-ms: 600"}));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto busy = request(gw.port(), jsonPost("/v1/chat/completions",
                                                R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(slow.get().status, 200);
  const auto after = request(gw.port(), jsonPost("/v1/chat/completions",
                                                 R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(after.status, 200);
  const auto text = scrapeAfter(gw.adminPort(), 3);
  EXPECT_EQ(seriesValue(text, "infergate_rate_limited_total{route=\"chat\",key=\"none\",kind=\"concurrent\"}"), 1);
}
