// GET /admin/diagnosis end to end: each stage is driven to fault through the
// mock (drifted inputs, a failing model server, refusing answers) and the
// diagnosis names it, with its evidence; on healthy traffic it names nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <regex>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

// Short windows: the baseline is what came before the last 1.5 s.
const std::string kDiagnosis = "diagnosis:\n  window: 1500ms\n  interval: 100ms\n";
const std::string kLabels = "metrics:\n  model_labels: [mock-model]\n";

boost::json::object entry(Gateway& gateway) {
  const auto r = request(gateway.adminPort(), simpleGet("/admin/diagnosis"));
  EXPECT_EQ(r.status, 200);
  const auto report = boost::json::parse(r.body);
  for (const auto& e : report.at("entries").as_array())
    if (e.at("backend").as_string() == "mock" && e.at("model").as_string() == "mock-model") return e.as_object();
  ADD_FAILURE() << "no entry for mock/mock-model: " << r.body;
  return {};
}

void send(Gateway& gateway, int count, const std::string& body, std::vector<std::string> headers = {}) {
  Connection c(gateway.port());
  if (headers.empty()) headers.push_back("x-mock-tokens: 3");  // a scripted output is sent whole
  for (int i = 0; i < count; ++i) {
    c.send(jsonPost("/v1/chat/completions", body, headers));
    c.read();
  }
}

const std::string kChat = R"({"model":"mock-model","max_tokens":100,"messages":[{"role":"user","content":"Summarise this short note."}]})";

void passWindow() { usleep(1'700'000); }

}  // namespace

TEST(Diagnosis, RefusingAnswersAreTheModelStage) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kLabels + kDiagnosis + "sampling:\n  rate: 1\n  max_per_minute: 100000\n";
  Gateway gateway(standardConfig(mock.port(), k));
  send(gateway, 40, kChat);
  passWindow();
  send(gateway, 40, kChat);
  auto healthy = entry(gateway);
  EXPECT_EQ(healthy.at("verdict").as_string(), "none") << boost::json::serialize(healthy);

  send(gateway, 40, kChat, {"x-mock-output: refusal"});
  // Scoring is asynchronous: wait until every answer is scored.
  for (int i = 0; i < 250; ++i) {
    if (seriesValue(scrape(gateway.adminPort()), R"(infergate_output_samples_total{model="mock-model"})") >= 120) break;
    usleep(20'000);
  }
  const auto faulty = entry(gateway);
  EXPECT_EQ(faulty.at("verdict").as_string(), "model") << boost::json::serialize(faulty);
  const std::string evidence(faulty.at("evidence").as_string());
  // About half the window's answers refused (its start moves by a snapshot interval).
  EXPECT_TRUE(std::regex_search(evidence, std::regex(R"(model: refusal (4[5-9]|5[0-5])% vs 0\.0% baseline)"))) << evidence;
  EXPECT_NE(evidence.find("deployment: normal"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("input: normal"), std::string::npos) << evidence;
}

TEST(Diagnosis, AFailingModelServerIsTheDeploymentStage) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kLabels + kDiagnosis;
  k.backendExtra = "    retry: {max_attempts: 1}\n";
  Gateway gateway(standardConfig(mock.port(), k));
  send(gateway, 40, kChat);
  passWindow();
  send(gateway, 30, kChat);
  EXPECT_EQ(entry(gateway).at("verdict").as_string(), "none");
  send(gateway, 30, kChat, {"x-mock-status: 500"});
  const auto faulty = entry(gateway);
  EXPECT_EQ(faulty.at("verdict").as_string(), "deployment") << boost::json::serialize(faulty);
  const std::string evidence(faulty.at("evidence").as_string());
  EXPECT_TRUE(std::regex_search(evidence, std::regex(R"(deployment: errors (4[5-9]|5[0-5])% vs 0\.0% baseline)"))) << evidence;
  // The same judgement, every interval, as a gauge for dashboards and alerts.
  const std::string gauge = R"(infergate_diagnosis_stage_fault{backend="mock",model="mock-model",stage=")";
  double deployment = 0;
  for (int i = 0; i < 50 && deployment != 1; ++i) {
    deployment = seriesValue(scrape(gateway.adminPort()), gauge + "deployment\"}");
    if (deployment != 1) usleep(20'000);
  }
  EXPECT_EQ(deployment, 1);
  const auto text = scrape(gateway.adminPort());
  EXPECT_EQ(seriesValue(text, gauge + "model\"}"), 0);
  EXPECT_EQ(seriesValue(text, gauge + "input\"}"), 0);
}

TEST(Diagnosis, DriftedInputsAreTheInputStage) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kLabels + kDiagnosis +
               "drift:\n  learn_requests: 100\n  min_window_requests: 50\n  window: 1500ms\n  evaluation_interval: 100ms\n";
  Gateway gateway(standardConfig(mock.port(), k));
  send(gateway, 100, kChat);
  passWindow();
  send(gateway, 60, kChat);
  usleep(300'000);  // a drift evaluation of the unchanged window
  auto healthy = entry(gateway);
  EXPECT_EQ(healthy.at("verdict").as_string(), "none") << boost::json::serialize(healthy);

  std::string cjk;
  for (int i = 0; i < 200; ++i) cjk += "今日は良い天気ですね";
  passWindow();
  send(gateway, 100, R"({"model":"mock-model","max_tokens":100,"messages":[{"role":"user","content":")" + cjk + R"("}]})");
  usleep(300'000);
  const auto faulty = entry(gateway);
  EXPECT_EQ(faulty.at("verdict").as_string(), "input") << boost::json::serialize(faulty);
  const std::string evidence(faulty.at("evidence").as_string());
  EXPECT_NE(evidence.find("input: "), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("deployment: normal"), std::string::npos) << evidence;
}
