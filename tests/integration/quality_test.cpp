// Output sampling end to end: a real gateway in front of the mock model server,
// told to refuse, loop, truncate or emit broken JSON; the right flags appear in
// the metrics, the JSONL sink and /admin/samples; the judge is a second mock;
// feedback turns into precision and recall.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "filters/quality/sampling.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

// Model series are labelled only for configured names (others are "other").
const std::string kModelLabels = "metrics:\n  model_labels: [mock-model]\n";

std::string samplingSection(const std::string& extra) { return kModelLabels + "sampling:\n  rate: 1\n" + extra; }

// Waits until `series` reaches `value` (scoring is asynchronous); returns the last scrape.
std::string scrapeUntil(std::uint16_t adminPort, const std::string& series, double value) {
  std::string text;
  for (int i = 0; i < 250; ++i) {
    text = scrape(adminPort);
    if (seriesValue(text, series) >= value) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return text;
}

Response chat(std::uint16_t port, const std::string& id, const std::string& output, bool stream,
              const std::string& extraBody = "", const std::string& prompt = "What is the capital of France?",
              std::vector<std::string> headers = {}) {
  const std::string body = R"({"model":"mock-model","stream":)" + std::string(stream ? "true" : "false") + extraBody +
                           R"(,"messages":[{"role":"user","content":")" + prompt + R"("}]})";
  headers.push_back("x-request-id: " + id);
  if (!output.empty()) headers.push_back("x-mock-output: " + output);
  return request(port, jsonPost("/v1/chat/completions", body, headers));
}

std::map<std::string, boost::json::object> readSink(const std::string& path) {
  std::map<std::string, boost::json::object> byId;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto o = boost::json::parse(line).as_object();
    byId[std::string(o["request_id"].as_string())] = o;
  }
  return byId;
}

std::set<std::string> flagsOf(const boost::json::object& sample) {
  std::set<std::string> out;
  for (const auto& f : sample.at("flags").as_array()) out.insert(std::string(f.as_string()));
  return out;
}

const std::string kFlag = "infergate_output_flags_total{model=\"mock-model\",flag=\"";

}  // namespace

TEST(OutputQuality, RefusalLoopTruncationAndBrokenJsonAreFlagged) {
  MockServer mock;
  const auto sink = unusedTempPath(".jsonl");
  ConfigKnobs k;
  k.topLevel = samplingSection("  sink:\n    path: " + sink + "\n");
  Gateway gw(standardConfig(mock.port(), k));

  const std::string json = R"(,"response_format":{"type":"json_object"})";
  for (bool stream : {false, true}) {
    const std::string s = stream ? "-s" : "-j";
    ASSERT_EQ(chat(gw.port(), "q-normal" + s, "", stream).status, 200);
    ASSERT_EQ(chat(gw.port(), "q-refusal" + s, "refusal", stream).status, 200);
    ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions",
                                          std::string(R"({"model":"mock-model","stream":)") + (stream ? "true" : "false") +
                                              R"(,"messages":[{"role":"user","content":"Say it again"}]})",
                                          {"x-request-id: q-loop" + s, "x-mock-output: loop", "x-mock-tokens: 120"}))
                  .status,
              200);
    ASSERT_EQ(chat(gw.port(), "q-truncate" + s, "truncate", stream).status, 200);
    ASSERT_EQ(chat(gw.port(), "q-badjson" + s, "badjson", stream, json).status, 200);
    ASSERT_EQ(chat(gw.port(), "q-goodjson" + s, "", stream, "", "Reply in plain words").status, 200);
  }
  const auto text = scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 12);
  EXPECT_EQ(seriesValue(text, "infergate_output_samples_total{model=\"mock-model\"}"), 12);
  EXPECT_EQ(seriesValue(text, kFlag + "refusal\"}"), 2);
  EXPECT_EQ(seriesValue(text, kFlag + "repetition\"}"), 2);
  EXPECT_EQ(seriesValue(text, kFlag + "compressible\"}"), 2);
  EXPECT_EQ(seriesValue(text, kFlag + "truncated\"}"), 2);
  EXPECT_EQ(seriesValue(text, kFlag + "invalid_json\"}"), 2);
  EXPECT_EQ(seriesValue(text, kFlag + "empty\"}"), 0);
  EXPECT_EQ(seriesValue(text, kFlag + "garbled\"}"), 0);
  EXPECT_EQ(seriesValue(text, "infergate_output_quality_score_count{model=\"mock-model\"}"), 12);
  EXPECT_EQ(seriesValue(text, "infergate_output_samples_dropped_total{reason=\"queue_full\"}"), 0);

  // The sink has one line per sample, with the same verdicts and the reassembled stream.
  std::map<std::string, boost::json::object> lines;
  for (int i = 0; i < 100 && lines.size() < 12; ++i) {
    lines = readSink(sink);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(lines.size(), 12u);
  for (std::string s : {"-j", "-s"}) {
    EXPECT_EQ(flagsOf(lines["q-normal" + s]), std::set<std::string>{}) << s;
    EXPECT_EQ(flagsOf(lines["q-refusal" + s]), std::set<std::string>{"refusal"}) << s;
    EXPECT_EQ(flagsOf(lines["q-loop" + s]), (std::set<std::string>{"repetition", "compressible"})) << s;
    EXPECT_EQ(flagsOf(lines["q-truncate" + s]), std::set<std::string>{"truncated"}) << s;
    EXPECT_EQ(flagsOf(lines["q-badjson" + s]), std::set<std::string>{"invalid_json"}) << s;
    EXPECT_EQ(lines["q-refusal" + s]["answer"].as_string(), "I'm sorry, but I can't help with that request.");
    EXPECT_EQ(lines["q-truncate" + s]["finish_reason"].as_string(), "length");
    EXPECT_EQ(lines["q-normal" + s]["prompt"].as_string(), "user: What is the capital of France?");
    EXPECT_EQ(lines["q-normal" + s]["route"].as_string(), "chat");
    EXPECT_EQ(lines["q-normal" + s]["reason"].as_string(), "rate");
  }
  EXPECT_TRUE(lines["q-normal-s"]["stream"].as_bool());
  EXPECT_EQ(lines["q-normal-s"]["answer"].as_string(), lines["q-normal-j"]["answer"].as_string());

  // /admin/samples: newest first, filtered by flag; an unknown flag is a 400.
  auto r = request(gw.adminPort(), simpleGet("/admin/samples?limit=50&flag=refusal"));
  ASSERT_EQ(r.status, 200);
  auto report = boost::json::parse(r.body).as_object();
  ASSERT_EQ(report["samples"].as_array().size(), 2u);
  EXPECT_EQ(report["samples"].as_array()[0].as_object().at("request_id").as_string(), "q-refusal-s");
  EXPECT_EQ(request(gw.adminPort(), simpleGet("/admin/samples?flag=nonsense")).status, 400);
  EXPECT_EQ(request(gw.adminPort(), simpleGet("/admin/samples?limit=zero")).status, 400);
  r = request(gw.adminPort(), simpleGet("/admin/samples?limit=3"));
  EXPECT_EQ(boost::json::parse(r.body).as_object()["samples"].as_array().size(), 3u);
}

TEST(OutputQuality, SecretsAndPersonalDataNeverReachTheSink) {
  MockServer mock;
  const auto sink = unusedTempPath(".jsonl");
  ConfigKnobs k;
  k.topLevel = samplingSection("  sink:\n    path: " + sink + "\n  redact:\n    patterns: ['ticket-[0-9]+']\n");
  Gateway gw(standardConfig(mock.port(), k));
  const std::string prompt =
      "my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX, mail jane@example.com, card 4111 1111 1111 1111, ticket-991";
  ASSERT_EQ(chat(gw.port(), "q-secret", "", false, "", prompt, {"Authorization: Bearer sk-live-SECRETSECRETSECRET1"})
                .status,
            200);
  scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 1);
  std::string content;
  for (int i = 0; i < 100 && content.empty(); ++i) {
    std::ifstream in(sink);
    content.assign(std::istreambuf_iterator<char>(in), {});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(content.empty());
  for (std::string secret : {"sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX", "jane@example.com", "4111 1111 1111 1111",
                             "ticket-991", "SECRETSECRET"})
    EXPECT_EQ(content.find(secret), std::string::npos) << secret;
  for (std::string mark : {"[REDACTED_KEY]", "[REDACTED_EMAIL]", "[REDACTED_CARD]", "[REDACTED]"})
    EXPECT_NE(content.find(mark), std::string::npos) << mark;
  const auto admin = request(gw.adminPort(), simpleGet("/admin/samples")).body;
  EXPECT_EQ(admin.find("sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX"), std::string::npos);
}

TEST(OutputQuality, SamplingIsDeterministicAndCapped) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kModelLabels + "sampling:\n  rate: 0.3\n  max_per_minute: 1000\n";
  Gateway gw(standardConfig(mock.port(), k));
  std::set<std::string> expected;
  const auto threshold = infergate::quality::rateThreshold(0.3);
  for (int i = 0; i < 60; ++i) {
    const auto id = "det-" + std::to_string(i);
    if (infergate::quality::sampledAt(infergate::quality::requestHash(id), threshold)) expected.insert(id);
    ASSERT_EQ(chat(gw.port(), id, "", i % 2 == 0).status, 200);
  }
  ASSERT_GT(expected.size(), 5u);
  scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", expected.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto body = request(gw.adminPort(), simpleGet("/admin/samples?limit=100")).body;
  const auto report = boost::json::parse(body);
  ASSERT_TRUE(report.is_object() && report.as_object().contains("samples")) << body;
  std::set<std::string> sampled;
  for (const auto& s : report.at("samples").as_array()) sampled.insert(std::string(s.at("request_id").as_string()));
  EXPECT_EQ(sampled, expected);

  // The budget: a burst of 5 taken, the rest dropped and counted (the next
  // token comes 12 s later at 5 a minute).
  ConfigKnobs capped;
  capped.topLevel = kModelLabels + "sampling:\n  rate: 1\n  max_per_minute: 5\n  burst: 5\n";
  Gateway gw2(standardConfig(mock.port(), capped));
  for (int i = 0; i < 12; ++i) ASSERT_EQ(chat(gw2.port(), "cap-" + std::to_string(i), "", false).status, 200);
  // A request is counted when it completes, just after its last byte reaches
  // the client: wait for the last drop too, not only the fifth sample.
  scrapeUntil(gw2.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 5);
  const auto text = scrapeUntil(gw2.adminPort(), "infergate_output_samples_dropped_total{reason=\"budget\"}", 7);
  EXPECT_EQ(seriesValue(text, "infergate_output_samples_total{model=\"mock-model\"}"), 5);
  EXPECT_EQ(seriesValue(text, "infergate_output_samples_dropped_total{reason=\"budget\"}"), 7);
}

TEST(OutputQuality, ErrorsAreAlwaysSampledButNotScored) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kModelLabels + "sampling:\n  rate: 0\n";
  Gateway gw(standardConfig(mock.port(), k));
  ASSERT_EQ(chat(gw.port(), "ok-1", "", false).status, 200);
  ASSERT_EQ(chat(gw.port(), "err-1", "", false, "", "hi", {"x-mock-status: 500"}).status, 500);
  const auto text = scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto report = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
  const auto& samples = report.at("samples").as_array();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].at("request_id").as_string(), "err-1");
  EXPECT_EQ(samples[0].at("reason").as_string(), "error");
  EXPECT_TRUE(samples[0].at("quality_score").is_null());
  // The sample is counted; nothing was scored.
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), "infergate_output_samples_total{model=\"mock-model\"}"), 1);
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), "infergate_output_quality_score_count{model=\"mock-model\"}"), 0);
}

// A client that hangs up mid-stream cut the answer, not the model: the sample
// says "abandoned", is not scored, and raises no truncation flag; a stream the
// upstream cuts is a real truncation and is flagged as one.
TEST(OutputQuality, AnAnswerItsClientLeftIsAbandonedNotTruncated) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = samplingSection("");
  Gateway gw(standardConfig(mock.port(), k));
  {
    Connection gone(gw.port());
    gone.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                       {"x-request-id: left", "x-mock-tokens: 50", "x-mock-inter-token-ms: 20"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    gone.close();
  }
  ASSERT_EQ(chat(gw.port(), "cut", "", true, "", "hi", {"x-mock-reset-after: 2"}).status, 200);
  const auto text = scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 2);
  EXPECT_EQ(seriesValue(text, "infergate_output_samples_total{model=\"mock-model\"}"), 2) << text;
  EXPECT_EQ(seriesValue(text, kFlag + "truncated\"}"), 1);
  EXPECT_EQ(seriesValue(text, "infergate_output_quality_score_count{model=\"mock-model\"}"), 1);
  std::map<std::string, boost::json::object> byId;
  const auto report = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
  for (const auto& s : report.at("samples").as_array()) byId[std::string(s.at("request_id").as_string())] = s.as_object();
  ASSERT_EQ(byId.size(), 2u);
  EXPECT_EQ(byId["left"].at("ended").as_string(), "abandoned");
  EXPECT_EQ(byId["left"].at("cause").as_string(), "client_disconnect");
  EXPECT_TRUE(byId["left"].at("quality_score").is_null());
  EXPECT_EQ(flagsOf(byId["left"]), std::set<std::string>{});
  EXPECT_EQ(byId["cut"].at("ended").as_string(), "failed");
  EXPECT_EQ(flagsOf(byId["cut"]), std::set<std::string>{"truncated"});
}

namespace {
std::string judgeConfig(std::uint16_t judgePort, const std::string& timeout, unsigned maxConcurrency = 8) {
  return "  judge:\n    backend: judge\n    model: judge-model\n    fraction: 1\n    timeout: " + timeout +
         "\n    max_concurrency: " + std::to_string(maxConcurrency) + "\n";
}
std::string judgeBackend(std::uint16_t judgePort) {
  return "  - name: judge\n    endpoints:\n      - url: http://127.0.0.1:" + std::to_string(judgePort) + "\n";
}
}  // namespace

TEST(OutputQuality, JudgeScoresParseFailuresAndTimeouts) {
  MockServer mock;
  MockServer judgeGood({"--output", "judge4"});
  MockServer judgeGarbage({"--output", "garbage"});
  MockServer judgeHang;
  ASSERT_EQ(request(judgeHang.port(), "POST /debug/set?hang=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status, 200);
  struct Case {
    MockServer* judge;
    std::string result;
  };
  for (const auto& c : {Case{&judgeGood, "ok"}, Case{&judgeGarbage, "parse_error"}, Case{&judgeHang, "timeout"}}) {
    ConfigKnobs k;
    k.topLevel = samplingSection(judgeConfig(c.judge->port(), "300ms"));
    k.backendExtra = judgeBackend(c.judge->port());
    Gateway gw(standardConfig(mock.port(), k));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(gw.port(), "j-" + std::to_string(i), "", i == 1).status, 200);
    const auto text = scrapeUntil(gw.adminPort(), "infergate_judge_requests_total{result=\"" + c.result + "\"}", 3);
    EXPECT_EQ(seriesValue(text, "infergate_judge_requests_total{result=\"" + c.result + "\"}"), 3) << c.result;
    if (c.result == "ok") {
      EXPECT_EQ(seriesValue(text, "infergate_judge_score_count{model=\"mock-model\"}"), 3);
      EXPECT_EQ(seriesValue(text, "infergate_judge_score_sum{model=\"mock-model\"}"), 12);
      // Each sample reached the judge (what it is sent: tests/unit/gateway/judge_client_test.cpp).
      const auto stats = c.judge->stats();
      EXPECT_GE(stats.at("requests").as_int64(), 3);
      const auto samples = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
      EXPECT_EQ(samples.at("samples").as_array()[0].at("judge").at("score").as_int64(), 4);
    } else {
      EXPECT_EQ(seriesValue(text, "infergate_judge_score_count{model=\"mock-model\"}"), -1);
    }
    // The gateway kept serving throughout.
    EXPECT_EQ(chat(gw.port(), "after", "", false).status, 200);
  }
}

// The judge is held to its own limits: a judge backend that fails opens the
// judge's breaker (its config's circuit_breaker) and later samples are not sent;
// past max_concurrency judge calls in flight, samples go unjudged. Both counted.
TEST(OutputQuality, JudgeHasItsOwnBreakerAndConcurrencyCap) {
  MockServer mock;
  {
    MockServer failing;
    ASSERT_EQ(request(failing.port(), "POST /debug/set?status=500 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status,
              200);
    ConfigKnobs k;
    k.topLevel = samplingSection(judgeConfig(failing.port(), "2s"));
    k.backendExtra = judgeBackend(failing.port()) + "    circuit_breaker: {consecutive_failures: 2, base_ejection: 30s}\n";
    Gateway gw(standardConfig(mock.port(), k));
    std::string text;
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(chat(gw.port(), "b-" + std::to_string(i), "", false).status, 200);
      // One sample judged (or refused) at a time, so the breaker sees each failure in turn.
      text = scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", i + 1);
      for (int w = 0; w < 100; ++w) {
        double judged = 0;
        for (const char* r : {"error", "circuit_open"})
          judged += std::max(0.0, seriesValue(text, std::string("infergate_judge_requests_total{result=\"") + r + "\"}"));
        if (judged >= i + 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        text = scrape(gw.adminPort());
      }
    }
    EXPECT_EQ(seriesValue(text, "infergate_judge_requests_total{result=\"error\"}"), 2) << text;
    EXPECT_EQ(seriesValue(text, "infergate_judge_requests_total{result=\"circuit_open\"}"), 3);
    EXPECT_EQ(failing.stats().at("requests").as_int64(), 2);  // nothing more reached the failing judge
  }
  {
    MockServer hanging;
    ASSERT_EQ(request(hanging.port(), "POST /debug/set?hang=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status, 200);
    ConfigKnobs k;
    k.topLevel = samplingSection(judgeConfig(hanging.port(), "1500ms", 1));
    k.backendExtra = judgeBackend(hanging.port());
    Gateway gw(standardConfig(mock.port(), k));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(chat(gw.port(), "c-" + std::to_string(i), "", false).status, 200);
    auto text = scrapeUntil(gw.adminPort(), "infergate_judge_requests_total{result=\"dropped\"}", 2);
    EXPECT_EQ(seriesValue(text, "infergate_judge_requests_total{result=\"dropped\"}"), 2) << text;
    text = scrapeUntil(gw.adminPort(), "infergate_judge_requests_total{result=\"timeout\"}", 1);
    EXPECT_EQ(seriesValue(text, "infergate_judge_requests_total{result=\"timeout\"}"), 1);
    EXPECT_EQ(chat(gw.port(), "after", "", false).status, 200);  // requests never waited for the judge
  }
}

TEST(OutputQuality, FeedbackGivesPrecisionAndRecall) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = samplingSection("");
  Gateway gw(standardConfig(mock.port(), k));
  // 4 refusals, 6 normal answers; humans call 3 refusals and 1 normal answer bad.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(chat(gw.port(), "ref-" + std::to_string(i), "refusal", i % 2).status, 200);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(chat(gw.port(), "nor-" + std::to_string(i), "", i % 2).status, 200);
  scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 10);
  auto label = [&gw](const std::string& body) {
    return request(gw.port(), jsonPost("/v1/feedback", body));
  };
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(label(R"({"request_id":"ref-)" + std::to_string(i) + R"(","label":")" + (i < 3 ? "bad" : "good") + "\"}")
                  .status,
              200);
  ASSERT_EQ(label(R"({"request_id":"nor-0","score":0.1})").status, 200);  // bad
  for (int i = 1; i < 6; ++i) ASSERT_EQ(label(R"({"request_id":"nor-)" + std::to_string(i) + R"(","label":"good"})").status, 200);

  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_feedback_total{model=\"mock-model\",label=\"bad\"}"), 4);
  EXPECT_EQ(seriesValue(text, "infergate_feedback_total{model=\"mock-model\",label=\"good\"}"), 6);
  EXPECT_DOUBLE_EQ(seriesValue(text, "infergate_output_scorer_precision{scorer=\"refusal\"}"), 0.75);
  EXPECT_DOUBLE_EQ(seriesValue(text, "infergate_output_scorer_recall{scorer=\"refusal\"}"), 0.75);
  EXPECT_DOUBLE_EQ(seriesValue(text, "infergate_output_scorer_f1{scorer=\"refusal\"}"), 0.75);
  // The truncation scorer never said bad: precision undefined (absent), recall 0.
  EXPECT_EQ(seriesValue(text, "infergate_output_scorer_precision{scorer=\"truncated\"}"), -1);
  EXPECT_EQ(seriesValue(text, "infergate_output_scorer_recall{scorer=\"truncated\"}"), 0);
  const auto report = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
  EXPECT_EQ(report.at("labelled").as_int64(), 10);
  EXPECT_EQ(report.at("scorers").at("refusal").at("true_positive").as_int64(), 3);

  // Unknown ids get 404, malformed bodies 400, each with an OpenAI-style error.
  auto r = label(R"({"request_id":"never-sampled","label":"bad"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("unknown_request_id"), std::string::npos);
  for (std::string bad : {R"({"request_id":"ref-0","label":"meh"})", R"({"request_id":"ref-0"})",
                          R"({"label":"bad"})", R"({"request_id":"ref-0","score":7})", R"([1,2])", "{not json",
                          R"({"request_id":42,"label":"bad"})"}) {
    r = label(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << bad;
  }
  EXPECT_EQ(chat(gw.port(), "still-fine", "", false).status, 200);

  // The gateway's own endpoint is counted under its own route label, apart
  // from proxied traffic and from requests no route takes.
  const auto counted = scrapeAfter(gw.adminPort(), 10 + 11 + 8 + 1);
  EXPECT_EQ(seriesValue(counted, R"(infergate_requests_total{route="feedback",backend="none",model="none",code="200"})"), 10)
      << counted;
  EXPECT_EQ(seriesValue(counted, R"(infergate_requests_total{route="feedback",backend="none",model="none",code="400"})"), 7);
  EXPECT_EQ(seriesValue(counted, R"(infergate_requests_total{route="feedback",backend="none",model="none",code="404"})"), 1);
  EXPECT_EQ(counted.find(R"(infergate_requests_total{route="none")"), std::string::npos) << counted;
}

// A first token slower than sampling.always.slow_first_token is sampled at a
// rate of zero, and its stream is reassembled although the capture started
// only when the slowness was known (at the first token); a fast one is not sampled.
TEST(OutputQuality, SlowFirstTokensAreAlwaysSampled) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = kModelLabels + "sampling:\n  rate: 0\n  always: {slow_first_token: 150ms}\n";
  Gateway gw(standardConfig(mock.port(), k));
  ASSERT_EQ(chat(gw.port(), "fast-stream", "", true, "", "hi", {"x-mock-tokens: 5"}).status, 200);
  ASSERT_EQ(chat(gw.port(), "slow-stream", "", true, "", "hi", {"x-mock-tokens: 5", "x-mock-first-token-ms: 300"}).status,
            200);
  ASSERT_EQ(chat(gw.port(), "slow-json", "", false, "", "hi", {"x-mock-tokens: 5", "x-mock-latency-ms: 300"}).status,
            200);
  scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto report = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
  std::map<std::string, boost::json::object> byId;
  for (const auto& s : report.at("samples").as_array()) byId[std::string(s.at("request_id").as_string())] = s.as_object();
  ASSERT_EQ(byId.size(), 2u) << boost::json::serialize(report);
  for (const char* id : {"slow-stream", "slow-json"}) {
    ASSERT_TRUE(byId.count(id)) << id;
    const auto& s = byId[id];
    EXPECT_EQ(s.at("reason").as_string(), "slow_first_token") << id;
    // Not streaming, the first token is the first byte; samples give first_token_seconds for streams only.
    const auto& timings = s.at("timings").as_object();
    EXPECT_GE(timings.at(s.at("stream").as_bool() ? "first_token_seconds" : "total_seconds").as_double(), 0.29) << id;
    EXPECT_FALSE(s.at("answer").as_string().empty()) << id;
    EXPECT_EQ(s.at("finish_reason").as_string(), "stop") << id;
  }
  EXPECT_EQ(byId["slow-stream"].at("answer").as_string(), byId["slow-json"].at("answer").as_string());
}

// A sampled JSON answer longer than the gateway keeps (4 MiB) reaches the
// client whole; its sample says the answer was cut and is not scored, rather
// than scoring the start of its raw JSON as if it were the answer.
TEST(OutputQuality, AnAnswerTooLongToKeepIsSampledButNotScored) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = samplingSection("");
  Gateway gw(standardConfig(mock.port(), k));
  const auto big = chat(gw.port(), "huge-1", "", false, "", "Write a lot.", {"x-mock-tokens: 800000"});
  ASSERT_EQ(big.status, 200);
  ASSERT_GT(big.body.size(), 4u * 1024 * 1024);
  EXPECT_EQ(boost::json::parse(big.body).at("usage").at("completion_tokens").as_int64(), 800000);
  ASSERT_EQ(chat(gw.port(), "small-1", "", false).status, 200);
  scrapeUntil(gw.adminPort(), "infergate_output_samples_total{model=\"mock-model\"}", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto report = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/samples")).body);
  std::map<std::string, boost::json::object> byId;
  for (const auto& s : report.at("samples").as_array()) byId[std::string(s.at("request_id").as_string())] = s.as_object();
  ASSERT_TRUE(byId.count("huge-1")) << boost::json::serialize(report);
  EXPECT_TRUE(byId["huge-1"].at("answer_cut").as_bool());
  EXPECT_EQ(byId["huge-1"].at("answer").as_string(), "");
  EXPECT_TRUE(byId["huge-1"].at("quality_score").is_null());
  EXPECT_TRUE(byId["huge-1"].at("flags").as_array().empty());
  // The ordinary answer next to it is scored as usual.
  EXPECT_FALSE(byId.at("small-1").at("quality_score").is_null());
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), "infergate_output_quality_score_count{model=\"mock-model\"}"), 1);
}
