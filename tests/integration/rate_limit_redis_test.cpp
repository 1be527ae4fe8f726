// Rate limits shared through a real redis-server (`rate_limits.store: redis`):
// two gateways hold one combined limit, Redis lost or frozen mid-test gives
// the configured behaviour and is recovered from, token budgets settle with
// the mock's real usage, the openai SDK sees the 429 headers, and Redis holds
// key names, never keys.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

using namespace testsupport;

namespace {

const std::string kKey = "sk-shared-team-0123456789ab";

std::string redisLimits(const RedisServer& redis, const std::string& limits, const std::string& onFailure = "fail_open",
                        const std::string& timeout = "100ms") {
  return "rate_limits:\n  store: redis\n  redis:\n    address: " + redis.address() +
         "\n    timeout: " + timeout + "\n    on_failure: " + onFailure +
         "\n    key_prefix: igtest\n"
         "auth:\n  keys:\n    - name: shared\n      key: ${SHARED_KEY}\n      limits:\n" +
         limits;
}

Response chat(std::uint16_t port, unsigned maxTokens = 10) {
  return request(port, jsonPost("/v1/chat/completions",
                                R"({"model":"mock-model","max_tokens":)" + std::to_string(maxTokens) +
                                    R"(,"messages":[{"role":"user","content":"hi"}]})",
                                {"Authorization: Bearer " + kKey}));
}

std::string headerOf(const Response& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

// Polls the gateway's metrics until `series` has `value` (up to 10 s).
bool waitForSeries(std::uint16_t adminPort, const std::string& series, double value) {
  for (int i = 0; i < 200; ++i) {
    if (seriesValue(scrape(adminPort), series) == value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

const std::string kConnected = "infergate_rate_limit_store_connected_workers";

}  // namespace

TEST(RateLimitsRedis, TwoGatewaysHoldOneCombinedLimit) {
  RedisServer redis;
  MockServer mock;
  ConfigKnobs k;
  k.workers = 2;
  k.topLevel = redisLimits(redis, "        requests_per_minute: 100\n");
  Gateway a(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  Gateway b(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  ASSERT_TRUE(waitForSeries(a.adminPort(), kConnected, 2));
  ASSERT_TRUE(waitForSeries(b.adminPort(), kConnected, 2));
  int admitted[2] = {0, 0}, refused = 0;
  for (int i = 0; i < 160; ++i) {
    const auto r = chat(i % 2 == 0 ? a.port() : b.port());
    if (r.status == 200) ++admitted[i % 2];
    else if (r.status == 429) ++refused;
    else FAIL() << "status " << r.status << ": " << r.body;
  }
  // 100 a minute across both, all usable at once; the test's own seconds earn
  // a request back every 0.6 s.
  const int total = admitted[0] + admitted[1];
  EXPECT_GE(total, 100);
  EXPECT_LE(total, 104);
  EXPECT_GE(admitted[0], 45);  // both gateways served, neither alone
  EXPECT_GE(admitted[1], 45);
  EXPECT_EQ(refused, 160 - total);
  EXPECT_EQ(mock.stats().at("requests").as_int64(), total);
  const auto refusedByA = chat(a.port());
  ASSERT_EQ(refusedByA.status, 429);
  EXPECT_EQ(headerOf(refusedByA, "x-ratelimit-limit-requests"), "100");
  EXPECT_EQ(headerOf(refusedByA, "x-ratelimit-remaining-requests"), "0");
  EXPECT_GE(std::stoi(headerOf(refusedByA, "retry-after")), 1);
  // Redis holds the key's name, never the key.
  const auto keys = redis.command({"KEYS", "*"});
  EXPECT_NE(keys.find("igtest:key:shared:rpm"), std::string::npos) << keys;
  EXPECT_EQ(keys.find(kKey), std::string::npos) << keys;
}

TEST(RateLimitsRedis, RedisLostAdmitsWithFailOpenAndTheLimitReturnsWithRedis) {
  auto redis = std::make_unique<RedisServer>();
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = redisLimits(*redis, "        requests_per_minute: 3\n");
  Gateway gw(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(gw.port()).status, 200);
  ASSERT_EQ(chat(gw.port()).status, 429);

  redis->kill();
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 0));
  for (int i = 0; i < 5; ++i) {
    const auto r = chat(gw.port());
    EXPECT_EQ(r.status, 200) << "fail_open admits while Redis is gone: " << r.body;
  }
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_rate_limit_store_failures_total{reason=\"unreachable\",outcome=\"admitted\"}"),
            5);

  redis->start();  // empty: the budget starts whole again
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1)) << "no reconnect";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(chat(gw.port()).status, 200);
  EXPECT_EQ(chat(gw.port()).status, 429) << "the shared limit holds again";
  EXPECT_TRUE(gw.process().running());
}

TEST(RateLimitsRedis, RedisLostOrFrozenRefusesWithFailClosed) {
  RedisServer redis;
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = redisLimits(redis, "        requests_per_minute: 1000\n", "fail_closed", "150ms");
  Gateway gw(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1));
  ASSERT_EQ(chat(gw.port()).status, 200);

  // Frozen: the connection stays up and nothing answers; every check times out.
  redis.pause();
  for (int i = 0; i < 3; ++i) {
    const auto r = chat(gw.port());
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(boost::json::parse(r.body).at("error").at("code").as_string(), "rate_limit_store_unavailable");
    EXPECT_EQ(headerOf(r, "retry-after"), "1");
  }
  redis.resume();
  EXPECT_EQ(chat(gw.port()).status, 200) << "answers again once Redis does";

  redis.kill();
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 0));
  EXPECT_EQ(chat(gw.port()).status, 503);
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_rate_limit_store_failures_total{reason=\"timeout\",outcome=\"refused\"}"), 3);
  EXPECT_EQ(seriesValue(text, "infergate_rate_limit_store_failures_total{reason=\"unreachable\",outcome=\"refused\"}"),
            1);
  // Only the two admitted requests reached the model.
  EXPECT_EQ(mock.stats().at("requests").as_int64(), 2);
  redis.start();
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1));
  EXPECT_EQ(chat(gw.port()).status, 200);
  EXPECT_TRUE(gw.process().running());
}

TEST(RateLimitsRedis, TokensAreSettledWithRealUsageInRedis) {
  RedisServer redis;
  MockServer mock;  // answers 16 completion tokens whatever max_tokens says
  ConfigKnobs k;
  k.topLevel = redisLimits(redis, "        tokens_per_minute: 1000\n");
  Gateway gw(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1));
  // Each is charged ~701 at admission and settled to the mock's usage; without
  // the settlement in Redis the second would be refused.
  for (int i = 0; i < 5; ++i) {
    const auto r = chat(gw.port(), 700);
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    EXPECT_EQ(headerOf(r, "x-ratelimit-limit-tokens"), "1000");
  }
  // The last answer's remaining budget was read at its admission (before its
  // settlement): the four settled requests and this one's estimate.
  const auto r = chat(gw.port(), 10);
  ASSERT_EQ(r.status, 200);
  const auto left = std::stoi(headerOf(r, "x-ratelimit-remaining-tokens"));
  EXPECT_GT(left, 700) << "usage did not settle the estimates";
  EXPECT_LT(left, 1000);
  const auto refused = chat(gw.port(), 999);
  ASSERT_EQ(refused.status, 429);
  EXPECT_EQ(boost::json::parse(refused.body).at("error").at("type").as_string(), "tokens");
}

TEST(RateLimitsRedis, TheOpenAiSdkSeesTheSharedLimit) {
  RedisServer redis;
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = redisLimits(redis, "        requests_per_minute: 3\n");
  Gateway gw(standardConfig(mock.port(), k), {"SHARED_KEY=" + kKey});
  ASSERT_TRUE(waitForSeries(gw.adminPort(), kConnected, 1));
  Process node({NODE_BIN, std::string(NODE_TESTS_DIR) + "/openai_sdk_keys_check.mjs",
                "http://127.0.0.1:" + std::to_string(gw.port()) + "/v1", kKey, "3"});
  auto done = node.waitForLine("all checks passed", std::chrono::seconds(30));
  auto status = node.wait(std::chrono::seconds(10));
  EXPECT_TRUE(done) << node.transcript() << node.stderrText();
  EXPECT_EQ(status, 0) << node.transcript() << node.stderrText();
}
