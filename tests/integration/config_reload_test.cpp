// Reading the config again while the gateway runs (SIGHUP, POST
// /admin/reload): a broken file is refused whole with every error's position,
// sections that change in place (log level, keys) take effect, every other
// changed section is named as needing a restart, and the config in force is
// visible (GET /admin/config, secrets masked; infergate_config_info).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <atomic>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

Response reload(Gateway& gw) { return request(gw.adminPort(), jsonPost("/admin/reload", "{}")); }

// The hash and generation labels of infergate_config_info.
std::pair<std::string, std::string> configInfo(Gateway& gw) {
  const auto text = scrape(gw.adminPort());
  std::smatch m;
  std::regex re(R"re(infergate_config_info\{hash="([0-9a-f]{16})",generation="(\d+)"\} 1)re");
  if (!std::regex_search(text, m, re)) return {};
  return {m[1], m[2]};
}

std::vector<std::string> strings(const boost::json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

}  // namespace

TEST(ConfigReload, ABrokenFileIsRefusedWholeWithEveryErrorsPosition) {
  MockServer mock;
  const auto yaml = standardConfig(mock.port());
  Gateway gw(yaml);
  const auto before = configInfo(gw);
  ASSERT_FALSE(before.first.empty()) << scrape(gw.adminPort());
  EXPECT_EQ(before.second, "1");
  // Two errors: an unknown key and a bad duration.
  auto broken = yaml + "bogus_section: 1\n";
  broken = replacedOnce(broken, "drain_timeout: 5s", "drain_timeout: soon");
  rewriteFile(gw.configPath(), broken);
  const auto r = reload(gw);
  EXPECT_EQ(r.status, 400);
  const auto json = boost::json::parse(r.body);
  EXPECT_EQ(json.at("result").as_string(), "failed");
  const auto errors = strings(json.at("errors"));
  ASSERT_EQ(errors.size(), 2u) << r.body;
  for (const auto& e : errors) EXPECT_EQ(e.rfind(gw.configPath() + ":", 0), 0u) << e;
  EXPECT_NE(r.body.find("unknown key 'bogus_section'"), std::string::npos);
  EXPECT_NE(r.body.find("drain_timeout must be a duration"), std::string::npos);
  // The config in force stays, and serves.
  EXPECT_EQ(configInfo(gw), before);
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, R"(infergate_config_reload_total{result="failed"})"), 1);
  EXPECT_NE(gw.process().stderrText().find("config not reloaded: " + gw.configPath() + ":"), std::string::npos);
}

TEST(ConfigReload, InPlaceSectionsApplyAndTheRestAreNamedAsNeedingARestart) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "log:\n  level: info\n";
  const auto yaml = standardConfig(mock.port(), k);
  Gateway gw(yaml);
  const auto start = configInfo(gw);

  // The log level alone: in force at once, a new generation.
  auto quieter = yaml;
  quieter = replacedOnce(quieter, "level: info", "level: error");
  rewriteFile(gw.configPath(), quieter);
  auto r = reload(gw);
  EXPECT_EQ(r.status, 200);
  auto json = boost::json::parse(r.body);
  EXPECT_EQ(json.at("result").as_string(), "ok") << r.body;
  EXPECT_EQ(strings(json.at("applied")), std::vector<std::string>{"log"});
  const auto afterLog = configInfo(gw);
  EXPECT_EQ(afterLog.second, "2");
  EXPECT_NE(afterLog.first, start.first);
  // Info lines are now dropped: a failed request's warn line is not written.
  const auto logged = gw.process().stderrText().size();
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("nope"))).status, 404);
  usleep(100'000);
  EXPECT_EQ(gw.process().stderrText().size(), logged);

  // A new route: named, not in force; the hash stays that of the config in force. By SIGHUP this time.
  auto routed = quieter;
  routed.replace(routed.find("routes:\n") + 8, 0,
                 "  - name: extra\n    path_prefix: /v2/\n    backend: mock\n");
  rewriteFile(gw.configPath(), routed);
  gw.process().signal(SIGHUP);
  for (int i = 0; i < 100 && seriesValue(scrape(gw.adminPort()), R"(infergate_config_reload_total{result="restart_required"})") < 1; ++i)
    usleep(20'000);
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, R"(infergate_config_reload_total{result="restart_required"})"), 1);
  EXPECT_EQ(seriesValue(text, "infergate_config_restart_required"), 1);
  EXPECT_EQ(configInfo(gw), afterLog);
  r = reload(gw);
  json = boost::json::parse(r.body);
  EXPECT_EQ(json.at("result").as_string(), "restart_required");
  EXPECT_EQ(strings(json.at("restart_required")), std::vector<std::string>{"routes"});
  EXPECT_EQ(request(gw.port(), jsonPost("/v2/chat/completions", chatBody("mock-model"))).status, 404);  // not in force

  // What only a restart changes is named key by key: the worker count and the listen address.
  auto moved = routed;
  moved = replacedOnce(moved, "workers: 1", "workers: 2");
  moved = replacedOnce(moved, "listen: 127.0.0.1:0", "listen: 127.0.0.1:1");
  rewriteFile(gw.configPath(), moved);
  r = reload(gw);
  json = boost::json::parse(r.body);
  EXPECT_EQ(strings(json.at("restart_required")),
            (std::vector<std::string>{"routes", "server.listen", "server.workers"}))
      << r.body;
}

TEST(ConfigReload, TheConfigInForceIsShownWithSecretsMasked) {
  MockServer mock;
  ConfigKnobs k;
  k.backendHeaders = "      Authorization: \"Bearer sk-literal-upstream-secret\"\n      X-Team: \"${INFERGATE_TEST_TEAM}\"\n";
  k.topLevel = "auth:\n  keys:\n    - name: team-a\n      key: sk-literal-client-key-0123456789\n";
  Gateway gw(standardConfig(mock.port(), k), {"INFERGATE_TEST_TEAM=blue"});
  const auto r = request(gw.adminPort(), simpleGet("/admin/config"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("sk-literal"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<masked>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("${INFERGATE_TEST_TEAM}"), std::string::npos) << r.body;  // a reference, not its value
  EXPECT_EQ(r.body.find("blue"), std::string::npos);
  EXPECT_NE(r.body.find("name: team-a"), std::string::npos);
  EXPECT_NE(r.body.find("generation 1"), std::string::npos);
}

TEST(ConfigReload, ReloadsUnderLoadLoseNoRequestAndAStreamAcrossThemCompletes) {
  MockServer mock, second;
  ConfigKnobs k;
  k.workers = 2;
  const std::string keysA = "auth:\n  keys:\n    - name: team-a\n      key: sk-reload-team-a-0123456789\n";
  const std::string keysAB = keysA + "    - name: team-b\n      key: sk-reload-team-b-0123456789\n";
  k.topLevel = keysA + "log:\n  level: info\n";
  const auto yaml = standardConfig(mock.port(), k);
  Gateway gw(yaml);
  const std::string keyA = "Authorization: Bearer sk-reload-team-a-0123456789";
  // A stream that spans every reload below (20 tokens, 100 ms apart).
  Connection stream(gw.port());
  stream.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                       {keyA, "x-mock-tokens: 20", "x-mock-inter-token-ms: 100"}));
  // Steady load on four keep-alive connections.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      Connection c(gw.port());
      while (!stop.load()) {
        c.send(jsonPost("/v1/chat/completions", chatBody("mock-model"), {keyA}));
        (c.read().status == 200 ? ok : bad).fetch_add(1);
      }
    });
  // Reloads that change what applies in place (a second key) and what a new
  // generation brings (a second endpoint, the route's validation), added and
  // removed, three times.
  auto withB = yaml;
  withB = replacedOnce(withB, keysA, keysAB);
  const auto firstEndpoint = "      - url: http://127.0.0.1:" + std::to_string(mock.port()) + "\n";
  withB = replacedOnce(withB, firstEndpoint, firstEndpoint + "      - url: http://127.0.0.1:" + std::to_string(second.port()) + "\n");
  withB = replacedOnce(withB, "    backend: mock\n", "    backend: mock\n    validation: {max_messages: 8}\n");
  for (int i = 0; i < 6; ++i) {
    usleep(200'000);
    rewriteFile(gw.configPath(), i % 2 == 0 ? withB : yaml);
    const auto r = reload(gw);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"result\":\"ok\""), std::string::npos) << r.body;
    const auto b = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"),
                                               {"Authorization: Bearer sk-reload-team-b-0123456789"}));
    EXPECT_EQ(b.status, i % 2 == 0 ? 200u : 401u) << i;
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(ok.load(), 50);
  const auto s = stream.read(std::chrono::seconds(5));
  EXPECT_EQ(s.status, 200);
  EXPECT_TRUE(s.complete);
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
  // The last reload (i = 5) restored the single key: team-b is refused again, team-a served.
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"),
                                        {"Authorization: Bearer sk-reload-team-b-0123456789"}))
                .status,
            401);
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), R"(infergate_config_reload_total{result="ok"})"), 6);
  // The second endpoint served while it was in force, and nothing after.
  const auto byTheSecond = second.stats().at("requests").to_number<std::uint64_t>();
  EXPECT_GT(byTheSecond, 5u);
  for (int i = 0; i < 5; ++i) request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {keyA}));
  EXPECT_EQ(second.stats().at("requests").to_number<std::uint64_t>(), byTheSecond);
}

TEST(ConfigReload, DriftSettingsChangeInPlaceAndOtherDriftKeysNeedARestart) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\ndrift:\n  psi_warn: 0.1\n  psi_alert: 0.25\n"
               "  learn_requests: 1000\n  evaluation_interval: 10s\n  anomaly: {min_features: 1}\n";
  const auto yaml = standardConfig(mock.port(), k);
  Gateway gw(yaml);
  const auto drift = [&] { return boost::json::parse(request(gw.adminPort(), simpleGet("/admin/drift")).body).as_object(); };
  EXPECT_DOUBLE_EQ(drift().at("thresholds").at("psi_alert").as_double(), 0.25);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);

  // Thresholds, how many requests a baseline needs and how often it is looked at: in force at once.
  auto tuned = yaml;
  tuned = replacedOnce(tuned, "psi_alert: 0.25", "psi_alert: 0.4");
  tuned = replacedOnce(tuned, "learn_requests: 1000", "learn_requests: 5");
  tuned = replacedOnce(tuned, "evaluation_interval: 10s", "evaluation_interval: 100ms");
  rewriteFile(gw.configPath(), tuned);
  auto r = reload(gw);
  auto json = boost::json::parse(r.body);
  EXPECT_EQ(json.at("result").as_string(), "ok") << r.body;
  EXPECT_EQ(strings(json.at("applied")), std::vector<std::string>{"drift"});
  EXPECT_DOUBLE_EQ(drift().at("thresholds").at("psi_alert").as_double(), 0.4);
  // The 5 requests already counted make the baseline at the next look (within 10 s before the reload).
  bool learnt = false;
  for (int i = 0; i < 100 && !learnt; ++i) {
    const auto models = drift().at("models").as_object();  // a model is listed once looked at
    learnt = models.contains("mock-model") && models.at("mock-model").at("has_baseline").as_bool();
    if (!learnt) usleep(20'000);
  }
  EXPECT_TRUE(learnt) << boost::json::serialize(drift());

  // Any other drift key (what counts as an anomaly) is named as needing a restart, and nothing of it changes.
  auto other = tuned;
  other = replacedOnce(other, "anomaly: {min_features: 1}", "anomaly: {min_features: 2}");
  other = replacedOnce(other, "psi_warn: 0.1", "psi_warn: 0.2");
  rewriteFile(gw.configPath(), other);
  r = reload(gw);
  json = boost::json::parse(r.body);
  EXPECT_EQ(json.at("result").as_string(), "restart_required") << r.body;
  // Neither is in force: the section is applied whole or not at all.
  EXPECT_EQ(strings(json.at("restart_required")), (std::vector<std::string>{"drift.anomaly", "drift.psi_warn"}));
  EXPECT_DOUBLE_EQ(drift().at("thresholds").at("psi_warn").as_double(), 0.1);
}
