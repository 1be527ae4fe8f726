// Input drift end to end: a baseline mix is learnt and frozen, the window moves
// on, a shifted mix arrives, and exactly the shifted features cross the alert
// threshold while the others stay quiet.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <random>
#include <sstream>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

boost::json::object drift(Gateway& gateway) {
  auto r = request(gateway.adminPort(), simpleGet("/admin/drift"));
  return boost::json::parse(r.body).as_object();
}

// Polls /admin/drift until mock-model has a baseline (up to 2.5 s); the
// caller asserts it.
void waitForBaseline(Gateway& gateway) {
  for (int i = 0; i < 50; ++i) {
    auto m = drift(gateway).at("models").as_object();
    if (m.contains("mock-model") && m.at("mock-model").at("has_baseline").as_bool()) return;
    usleep(50'000);
  }
}

void send(Gateway& gateway, const std::string& content, int maxTokens, int count) {
  Connection c(gateway.port());
  const auto body = R"({"model":"mock-model","max_tokens":)" + std::to_string(maxTokens) +
                    R"(,"messages":[{"role":"user","content":")" + content + R"("}]})";
  for (int i = 0; i < count; ++i) {
    c.send(jsonPost("/v1/chat/completions", body, {"x-mock-tokens: 1"}));
    ASSERT_EQ(c.read().status, 200);
  }
}

}  // namespace

TEST(Drift, ShiftedFeaturesAlertAndUnshiftedStayQuiet) {
  MockServer mock;
  const auto baselineFile = unusedTempPath(".json");
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\n"
               "drift:\n  learn_requests: 100\n  min_window_requests: 100\n  window: 1500ms\n"
               "  evaluation_interval: 100ms\n  baseline_file: " + baselineFile + "\n";
  Gateway gateway(standardConfig(mock.port(), k));

  send(gateway, "Please summarise this short note.", 100, 100);
  waitForBaseline(gateway);
  ASSERT_TRUE(drift(gateway).at("models").at("mock-model").at("baseline_learnt").as_bool());
  usleep(1'800'000);  // the baseline traffic leaves the window

  std::string longCjk;
  for (int i = 0; i < 300; ++i) longCjk += "今日は良い天気ですね";
  send(gateway, longCjk, 4000, 150);
  usleep(300'000);
  auto model = drift(gateway).at("models").at("mock-model").as_object();
  ASSERT_TRUE(model.at("evaluated").as_bool()) << boost::json::serialize(model);
  const auto& features = model.at("features").as_object();
  auto alert = [&](const char* f) { return features.at(f).at("alert").to_number<int>(); };
  for (const char* shifted : {"prompt_chars", "last_user_chars", "body_bytes", "max_tokens", "script", "non_ascii_share"})
    EXPECT_EQ(alert(shifted), 2) << shifted << ": " << boost::json::serialize(features.at(shifted));
  for (const char* quiet : {"messages", "roles", "system_chars", "temperature", "top_p", "n", "tools", "response_format",
                            "stream"})
    EXPECT_EQ(alert(quiet), 0) << quiet << ": " << boost::json::serialize(features.at(quiet));
  EXPECT_GT(features.at("script").at("psi").as_double(), 5.0);
  EXPECT_LT(features.at("script").at("p_value").as_double(), 1e-6);
  EXPECT_NEAR(features.at("max_tokens").at("ks").as_double(), 1.0, 1e-9);

  const auto text = scrape(gateway.adminPort());
  EXPECT_EQ(seriesValue(text, R"(infergate_input_drift_alert{feature="script",model="mock-model"})"), 2);
  // Every shifted request had bins the baseline never saw (the first such feature is counted).
  EXPECT_EQ(seriesValue(text, R"(infergate_input_anomalies_total{model="mock-model",feature="prompt_chars"})"), 150);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_baseline_share{feature="script",model="mock-model",bin="latin"})"), 1);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_baseline_cdf{feature="max_tokens",model="mock-model",upto="32"})"), 0);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_baseline_cdf{feature="max_tokens",model="mock-model",upto="64"})"), 1);

  // The learnt baseline was written, versioned.
  std::ifstream in(baselineFile);
  std::stringstream saved;
  saved << in.rdbuf();
  auto file = boost::json::parse(saved.str());
  EXPECT_EQ(file.at("version").to_number<int>(), 1);
  EXPECT_EQ(file.at("models").at("mock-model").at("max_tokens").at("64").to_number<int>(), 100);

  // Freezing the current window makes it the baseline: the drift is gone.
  auto frozen = request(gateway.adminPort(), jsonPost("/admin/drift/baseline", "{}"));
  EXPECT_EQ(frozen.status, 200);
  usleep(200'000);
  EXPECT_EQ(drift(gateway).at("models").at("mock-model").at("features").at("script").at("alert").to_number<int>(), 0);
  unlink(baselineFile.c_str());
}

namespace {

std::string driftKnobs(const std::string& baselineFile) {
  return "metrics:\n  model_labels: [mock-model]\n"
         "drift:\n  learn_requests: 20\n  min_window_requests: 20\n  window: 10s\n"
         "  evaluation_interval: 100ms\n  baseline_file: " + baselineFile + "\n";
}

// Anomalies of mock-model over every feature (counters never incremented are not exported).
double anomalies(const std::string& exposition) {
  double total = 0;
  for (const char* f : {"prompt_chars", "last_user_chars", "system_chars", "body_bytes", "messages", "roles",
                        "max_tokens", "temperature", "top_p", "n", "tools", "response_format", "stream",
                        "non_ascii_share", "script"})
    total += std::max(0.0, seriesValue(exposition, std::string(R"(infergate_input_anomalies_total{model="mock-model",feature=")") + f + "\"}"));
  return total;
}


}  // namespace

// A restarted gateway judges traffic against the baseline its predecessor
// learnt and wrote, from its first request, and neither relearns nor rewrites it.
TEST(Drift, BaselineFileIsLoadedAtStartAndJudgesTheFirstRequest) {
  MockServer mock;
  const auto baselineFile = unusedTempPath(".json");
  ConfigKnobs k;
  k.topLevel = driftKnobs(baselineFile);
  {
    Gateway first(standardConfig(mock.port(), k));
    send(first, "Please summarise this short note.", 100, 20);
    for (int i = 0; i < 50 && readFile(baselineFile).empty(); ++i) usleep(50'000);
  }
  const auto written = readFile(baselineFile);
  ASSERT_NE(written.find("\"mock-model\""), std::string::npos) << written;

  Gateway second(standardConfig(mock.port(), k));
  auto model = drift(second).at("models").at("mock-model").as_object();
  EXPECT_TRUE(model.at("has_baseline").as_bool());
  EXPECT_FALSE(model.at("baseline_learnt").as_bool());
  EXPECT_EQ(model.at("features").at("script").at("baseline").at("latin").as_double(), 1.0);

  send(second, "Please summarise this short note.", 100, 1);
  send(second, "Пожалуйста, кратко изложите эту заметку.", 100, 1);  // Cyrillic: a script never seen
  auto text = scrapeAfter(second.adminPort(), 2);
  // One anomaly in all (counted under the first feature the baseline never saw): the Cyrillic request.
  EXPECT_EQ(anomalies(text), 1) << text;

  send(second, "Please summarise this short note.", 100, 25);  // more than learn_requests: still no relearning
  usleep(300'000);
  EXPECT_FALSE(drift(second).at("models").at("mock-model").at("baseline_learnt").as_bool());
  EXPECT_EQ(readFile(baselineFile), written);
  unlink(baselineFile.c_str());
}

// A baseline file the gateway cannot use stops it from starting, and --check
// says why, naming the file and the entry; the file is left as it was.
TEST(Drift, AnUnusableBaselineFileStopsTheStartAndFailsTheCheck) {
  const std::string bad = R"({"version":1,"models":{"mock-model":{"script":{"klingon":3}}}})";
  const auto baselineFile = writeTempFile(bad, ".json");
  ConfigKnobs k;
  k.topLevel = driftKnobs(baselineFile);
  const auto config = writeTempFile(standardConfig(8000, k));
  const auto expected = "drift baseline " + baselineFile + ": models.mock-model.script.klingon: not a bin of this feature";

  Process start({gatewayBinary(), "--config", config});
  EXPECT_EQ(start.wait(std::chrono::seconds(5)), 1);
  EXPECT_NE(start.stderrText().find("infergate: cannot start: " + expected), std::string::npos) << start.stderrText();

  Process check({gatewayBinary(), "--config", config, "--check"});
  EXPECT_EQ(check.wait(std::chrono::seconds(5)), 1);
  EXPECT_NE(check.stderrText().find(config + ": " + expected), std::string::npos) << check.stderrText();

  EXPECT_EQ(readFile(baselineFile), bad);
  unlink(baselineFile.c_str());
  unlink(config.c_str());
}

// drift.anomaly decides which requests are anomalies, and every anomaly is
// sampled even at a sampling rate of zero: here two checked features must both
// be outside the baseline, so a request that shifts only one is neither.
TEST(Drift, TheConfiguredAnomalyRuleDecidesWhatIsCountedAndSampled) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\n"
               "drift:\n  learn_requests: 20\n  evaluation_interval: 100ms\n"
               "  anomaly:\n    features: [max_tokens, script]\n    min_features: 2\n"
               "sampling:\n  rate: 0\n";
  Gateway gateway(standardConfig(mock.port(), k));
  send(gateway, "Please summarise this short note.", 100, 20);
  waitForBaseline(gateway);
  ASSERT_TRUE(drift(gateway).at("models").at("mock-model").at("has_baseline").as_bool());

  auto chat = [&](const std::string& id, const std::string& content, int maxTokens) {
    const auto body = R"({"model":"mock-model","max_tokens":)" + std::to_string(maxTokens) +
                      R"(,"messages":[{"role":"user","content":")" + content + R"("}]})";
    EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", body, {"x-request-id: " + id})).status, 200);
  };
  chat("only-script", "今日は良い天気ですね、短いメモを要約してください。", 100);
  chat("only-max-tokens", "Please summarise this short note.", 4000);
  chat("both", "今日は良い天気ですね、短いメモを要約してください。", 4000);
  chat("neither", "Please summarise this short note.", 100);

  const auto text = scrapeAfter(gateway.adminPort(), 24);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_anomalies_total{model="mock-model",feature="max_tokens"})"), 1) << text;
  EXPECT_EQ(anomalies(text), 1);
  boost::json::array samples;
  for (int i = 0; i < 100 && samples.empty(); ++i) {
    samples = boost::json::parse(request(gateway.adminPort(), simpleGet("/admin/samples")).body).at("samples").as_array();
    if (samples.empty()) usleep(20'000);
  }
  usleep(200'000);  // time for any other sample to arrive
  samples = boost::json::parse(request(gateway.adminPort(), simpleGet("/admin/samples")).body).at("samples").as_array();
  ASSERT_EQ(samples.size(), 1u) << boost::json::serialize(samples);
  EXPECT_EQ(samples[0].at("request_id").as_string(), "both");
  EXPECT_EQ(samples[0].at("reason").as_string(), "anomaly");
}

// Drift, anomaly marking and output scoring are monitoring of their own: with
// metrics off (nothing recorded or exported for Prometheus) a baseline is still
// learnt, an anomalous request is still sampled as one, and a sampled answer
// that reached max_tokens is still flagged `length` (its usage is still read).
TEST(Drift, MonitoringDoesNotDependOnMetrics) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  enabled: false\n  model_labels: [mock-model]\n"
               "access_log:\n  enabled: false\n"
               "drift:\n  learn_requests: 20\n  evaluation_interval: 100ms\n"
               "  anomaly:\n    features: [max_tokens]\n"
               "sampling:\n  rate: 0\n";
  Gateway gateway(standardConfig(mock.port(), k));
  send(gateway, "Please summarise this short note.", 100, 20);
  waitForBaseline(gateway);
  ASSERT_TRUE(drift(gateway).at("models").at("mock-model").at("has_baseline").as_bool());

  const auto body = R"({"model":"mock-model","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]})";
  ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", body,
                                             {"x-request-id: unusual", "x-mock-tokens: 4000"}))
                .status,
            200);
  boost::json::array samples;
  for (int i = 0; i < 100 && samples.empty(); ++i) {
    samples = boost::json::parse(request(gateway.adminPort(), simpleGet("/admin/samples")).body).at("samples").as_array();
    if (samples.empty()) usleep(20'000);
  }
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].at("request_id").as_string(), "unusual");
  EXPECT_EQ(samples[0].at("reason").as_string(), "anomaly");
  EXPECT_EQ(samples[0].at("completion_tokens").as_int64(), 4000);
  bool length = false;
  for (const auto& f : samples[0].at("flags").as_array()) length = length || f.as_string() == "length";
  EXPECT_TRUE(length) << boost::json::serialize(samples[0]);
}

// Multivariate anomalies end to end: the forest learns the model's first
// requests (two kinds of clients), then a request that mixes the two kinds,
// ordinary in every feature, is counted; ordinary requests are not.
TEST(Drift, RequestsUnusualAsAWholeAreCountedAsMultivariateAnomalies) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\n"
               "drift:\n  learn_requests: 300\n  evaluation_interval: 100ms\n"
               "  multivariate: {threshold: 0.99}\n"
               "sampling:\n  rate: 0\n";
  Gateway gateway(standardConfig(mock.port(), k));
  std::mt19937 rng(5);
  auto question = [&] {
    return R"({"model":"mock-model","messages":[{"role":"user","content":")" + std::string(20 + rng() % 150, 'q') +
           R"("}]})";
  };
  auto agent = [&](bool withSettings) {
    std::string body = R"({"model":"mock-model",)";
    if (withSettings)
      body += R"("max_tokens":)" + std::to_string(600 + rng() % 400) + R"(,"temperature":0.)" + std::to_string(1 + rng() % 3) + ",";
    body += R"("messages":[{"role":"system","content":")" + std::string(2000 + rng() % 2000, 's') +
            R"("},{"role":"user","content":")" + std::string(200 + rng() % 800, 'u') + R"("}]})";
    return body;
  };
  Connection c(gateway.port());
  auto send = [&](const std::string& body) {
    c.send(jsonPost("/v1/chat/completions", body, {"x-mock-tokens: 1"}));
    ASSERT_EQ(c.read().status, 200);
  };
  for (int i = 0; i < 300; ++i) send(i % 2 ? question() : agent(true));
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    auto m = drift(gateway).at("models").as_object();
    ready = m.contains("mock-model") && m.at("mock-model").at("multivariate").at("ready").as_bool();
    if (!ready) usleep(50'000);
  }
  ASSERT_TRUE(ready) << boost::json::serialize(drift(gateway));
  for (int i = 0; i < 100; ++i) send(i % 2 ? question() : agent(true));
  for (int i = 0; i < 10; ++i) send(agent(false));  // an agent's prompt without an agent's settings
  const auto text = scrapeAfter(gateway.adminPort(), 410);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_anomaly_score_count{model="mock-model"})"), 110) << text;
  const double flagged = seriesValue(text, R"(infergate_input_multivariate_anomalies_total{model="mock-model"})");
  EXPECT_GE(flagged, 9) << "the mixed requests";
  EXPECT_LE(flagged, 10 + 3) << "ordinary requests flagged too often";
  // Each such request is ordinary in every single feature: the per-feature rule sees nothing.
  EXPECT_EQ(anomalies(text), 0);
}
