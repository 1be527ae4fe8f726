// Input validation through a real gateway: enforce rejects with an OpenAI-style
// 400 naming the parameter (nothing reaches the backend), observe forwards and
// counts, clamping rewrites max_tokens; malformed bodies never crash anything.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

ConfigKnobs validationKnobs(const std::string& validation) {
  ConfigKnobs k;
  k.routes = "routes:\n  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\"]\n    backend: mock\n"
             "    validation: " + validation + "\n";
  return k;
}

std::uint64_t backendRequests(MockServer& mock) { return mock.stats().at("requests").to_number<std::uint64_t>(); }

}  // namespace

TEST(Validation, EnforceRejectsWithTheOffendingParamAndNothingReachesTheBackend) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{mode: enforce, max_messages: 2, max_tokens_cap: 100}")));
  struct Case {
    std::string body;
    std::string param;
    std::string reason;
  };
  for (const auto& c : {
           Case{R"({"model":"mock-model","messages":[{"role":"user","content":"x"}],"temperature":3})", "temperature",
                "invalid_temperature"},
           Case{R"({"model":"mock-model","messages":[{"role":"robot","content":"x"}]})", "messages", "invalid_role"},
           Case{R"({"model":"mock-model","messages":[{"role":"user","content":"x"}],"max_tokens":500})", "max_tokens",
                "max_tokens_too_large"},
           Case{R"({"model":"mock-model","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":"c"}]})",
                "messages", "too_many_messages"},
       }) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", c.body));
    ASSERT_EQ(r.status, 400) << c.body;
    auto error = boost::json::parse(r.body).at("error");
    EXPECT_EQ(error.at("param").as_string(), c.param);
    EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
    const auto text = scrapeAfter(gateway.adminPort(), 0);
    EXPECT_GE(seriesValue(text, "infergate_input_rejected_total{route=\"chat\",reason=\"" + c.reason + "\"}"), 1)
        << c.reason;
  }
  EXPECT_EQ(backendRequests(mock), 0u);
}

TEST(Validation, ObserveForwardsAndCounts) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{mode: observe, max_tokens_cap: 100}")));
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions",
                                            R"({"model":"mock-model","messages":[{"role":"user","content":"x"}],"max_tokens":500,"top_p":7})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(backendRequests(mock), 1u);
  const auto text = scrapeAfter(gateway.adminPort(), 1);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_rejected_total{route="chat",reason="invalid_top_p"})"), 1);
}

TEST(Validation, MaxTokensCanBeClamped) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{max_tokens_cap: 64, max_tokens_action: clamp}")));
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions",
                                            R"({"model":"mock-model","max_tokens": 4096,"messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::string(mock.stats().at("last_request_body").as_string()),
            R"({"model":"mock-model","max_tokens": 64,"messages":[{"role":"user","content":"x"}]})");
}

TEST(Validation, MalformedBodiesGet400AndTheGatewayKeepsServing) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  std::string deep = R"({"model":"mock-model","x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  for (const std::string& body : {std::string(R"({"model":"mock-model","messages":[)"), std::string("{\"model\":\"\xff\"}"),
                                  std::string(R"({"model":["mock-model"]})"), deep,
                                  std::string(R"({"model":"mock-model","messages":[{"role":"user","content":"x"}],"n":1e999})")}) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", body));
    EXPECT_EQ(r.status, 400) << body.substr(0, 60);
  }
  EXPECT_EQ(backendRequests(mock), 0u);
  EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
}

// One reading of every body: what is not JSON in every byte, or repeats a key
// the gateway reads, is refused in both modes (the gateway and the model server
// would read different requests), and never reaches the backend.
TEST(Validation, BodiesWithTwoReadingsAreRefusedInEveryMode) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{mode: observe, max_tokens_cap: 100}")));
  const std::string msgs = R"("messages":[{"role":"user","content":"x"}])";
  struct Case {
    std::string body;
    std::string reason;
    std::string param;
  };
  for (const auto& c : {
           Case{R"({"model":"mock-model",)" + msgs + R"(,"temperature":NaN})", "invalid_json", ""},
           Case{R"({"model":"mock-model",)" + msgs + R"(,"x":[1 2]})", "invalid_json", ""},
           Case{R"({"model":"mock-model",)" + msgs + R"(,"x":"\q"})", "invalid_json", ""},
           // Long prompts are read escaped (prompt_text.hpp): their escapes are refused the same way.
           Case{R"({"model":"mock-model","messages":[{"role":"user","content":")" + std::string(300, 'p') +
                    R"(\q"}]})",
                "invalid_json", ""},
           Case{R"({"model":"mock-model","messages":[{"role":"user","content":")" + std::string(300, 'p') +
                    R"(\ud800 alone"}]})",
                "invalid_json", ""},
           Case{R"({"model":"mock-model",)" + msgs + R"(,"max_completion_tokens":100000,"max_tokens":5,"max_tokens":6})",
                "duplicate_key", "max_tokens"},
           Case{R"({"model":"mock-model","model":"other",)" + msgs + "}", "duplicate_key", "model"},
       }) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", c.body));
    ASSERT_EQ(r.status, 400) << c.body;
    auto error = boost::json::parse(r.body).at("error");
    EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
    if (c.param.empty()) EXPECT_TRUE(error.at("param").is_null()) << r.body;
    else EXPECT_EQ(error.at("param").as_string(), c.param) << r.body;
  }
  const auto text = scrapeAfter(gateway.adminPort(), 7);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_rejected_total{route="none",reason="invalid_json"})"), 5);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_rejected_total{route="none",reason="duplicate_key"})"), 2);
  EXPECT_EQ(backendRequests(mock), 0u);
}

// The cap holds for every token limit the body carries (a server may read
// either), and a body without one gets the cap added.
TEST(Validation, CapClampsEveryTokenLimitAndIsAddedWhenAbsent) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{max_tokens_cap: 64, max_tokens_action: clamp}")));
  auto forwarded = [&](const std::string& body) {
    EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", body)).status, 200) << body;
    return std::string(mock.stats().at("last_request_body").as_string());
  };
  EXPECT_EQ(forwarded(R"({"model":"mock-model","max_completion_tokens":100000,"max_tokens":4096,"messages":[{"role":"user","content":"x"}]})"),
            R"({"model":"mock-model","max_completion_tokens":64,"max_tokens":64,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(forwarded(R"({"model":"mock-model","max_completion_tokens":100000,"max_tokens":5,"messages":[{"role":"user","content":"x"}]})"),
            R"({"model":"mock-model","max_completion_tokens":64,"max_tokens":5,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(forwarded(R"({"model":"mock-model","messages":[{"role":"user","content":"x"}]})"),
            R"({"max_tokens":64,"model":"mock-model","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(forwarded(R"({"model":"mock-model","max_tokens":null,"messages":[{"role":"user","content":"x"}]})"),
            R"({"model":"mock-model","max_tokens":64,"messages":[{"role":"user","content":"x"}]})");
}

TEST(Validation, RejectModeRefusesAnyTokenLimitOverTheCap) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), validationKnobs("{max_tokens_cap: 64}")));
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions",
                                            R"({"model":"mock-model","max_completion_tokens":100000,"max_tokens":5,"messages":[{"role":"user","content":"x"}]})"));
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(boost::json::parse(r.body).at("error").at("param").as_string(), "max_completion_tokens");
  EXPECT_EQ(backendRequests(mock), 0u);
}

TEST(InputProfile, FeatureBinCountsAreExportedExactly) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\n";
  Gateway gateway(standardConfig(mock.port(), k));
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions",
                                               R"({"model":"mock-model","messages":[{"role":"user","content":"Hello there"}],"max_tokens":100})"))
                  .status,
              200);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions",
                                               R"({"model":"mock-model","stream":true,"messages":[{"role":"user","content":"今日は良い天気ですね"}]})"))
                  .status,
              200);
  // Rejected requests are not profiled: they never reach a model.
  ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", R"({"model":"mock-model","messages":[],"top_p":5})")).status, 400);
  const auto text = scrapeAfter(gateway.adminPort(), 11);
  auto bin = [&](const std::string& feature, const std::string& value) {
    return seriesValue(text, R"(infergate_input_feature_bin_total{feature=")" + feature + R"(",model="mock-model",bin=")" +
                                 value + "\"}");
  };
  EXPECT_EQ(bin("stream", "false"), 6);
  EXPECT_EQ(bin("stream", "true"), 4);
  EXPECT_EQ(bin("script", "latin"), 6);
  EXPECT_EQ(bin("script", "cjk"), 4);
  EXPECT_EQ(bin("max_tokens", "64"), 6);
  EXPECT_EQ(bin("max_tokens", "absent"), 4);
  EXPECT_EQ(bin("prompt_chars", "8"), 10);  // 11 and 10 code points
  EXPECT_EQ(bin("messages", "1"), 10);
  EXPECT_EQ(bin("roles", "user"), 10);
  // Cumulative counts of ordered features: "absent" (4) then "64" (6).
  EXPECT_EQ(seriesValue(text, R"(infergate_input_feature_cdf_total{feature="max_tokens",model="mock-model",upto="absent"})"), 4);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_feature_cdf_total{feature="max_tokens",model="mock-model",upto="64"})"), 10);
  EXPECT_EQ(seriesValue(text, R"(infergate_input_feature_cdf_total{feature="max_tokens",model="mock-model",upto=">=131072"})"), 10);
}
