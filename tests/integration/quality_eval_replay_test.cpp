// The labelled answers of tests/data/quality replayed through a real gateway
// from the model's side: the mock model server gives each answer exactly
// (x-mock-answer), every exchange is sampled, and the sink's verdicts must be
// the ones the scorers give in process (so the pipeline hands them the same
// prompt reading) and keep the combined flag's precision and recall, streamed
// and not.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "filters/quality/scorers.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/labelled_answers.hpp"

using namespace testsupport;
namespace q = infergate::quality;

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

// The flags the scorers give this pair in process, as the pipeline calls them.
std::set<std::string> flagsInProcess(const testsupport::LabelledAnswer& item) {
  const auto report = testsupport::scoreInProcess(item);
  std::set<std::string> out;
  for (std::size_t f = 0; f < q::kFlagCount; ++f)
    if (report.flags & (1u << f)) out.insert(std::string(q::kFlagNames[f]));
  return out;
}

}  // namespace

TEST(QualityEvaluationReplay, TheGatewayGivesEveryLabelledAnswerTheScorersVerdict) {
  const auto set = testsupport::labelledAnswers(SOURCE_DIR);
  ASSERT_GE(set.size(), 300u);
  MockServer mock;
  const auto sink = unusedTempPath(".jsonl");
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\nsampling:\n  rate: 1\n  max_per_minute: 100000\n"
               "  burst: 100000\n  queue: 4096\n  sink:\n    path: " + sink + "\n";
  Gateway gw(standardConfig(mock.port(), k));

  for (std::size_t i = 0; i < set.size(); ++i) {
    const bool stream = i % 2 == 1;
    boost::json::object body{{"model", "mock-model"}, {"stream", stream}};
    body["messages"] = boost::json::array{boost::json::object{{"role", "user"}, {"content", set[i].prompt}}};
    const auto r = request(gw.port(), jsonPost("/v1/chat/completions", boost::json::serialize(body),
                                               {"x-request-id: e-" + std::to_string(i),
                                                "x-mock-answer: " + base64(set[i].answer)}));
    ASSERT_EQ(r.status, 200) << i;
  }

  std::map<std::string, boost::json::object> samples;
  for (int wait = 0; wait < 500 && samples.size() < set.size(); ++wait) {
    samples.clear();
    std::ifstream in(sink);
    std::string line;
    while (std::getline(in, line)) {
      auto o = boost::json::parse(line).as_object();
      samples[std::string(o["request_id"].as_string())] = o;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  ASSERT_EQ(samples.size(), set.size());

  int truePositives = 0, falsePositives = 0, falseNegatives = 0, differ = 0;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const auto& sample = samples["e-" + std::to_string(i)];
    ASSERT_TRUE(sample.contains("flags")) << i;
    std::set<std::string> flags;
    for (const auto& f : sample.at("flags").as_array()) flags.insert(std::string(f.as_string()));
    // The stream was reassembled to the very answer the model gave.
    EXPECT_EQ(sample.at("stream").as_bool(), i % 2 == 1);
    if (flags != flagsInProcess(set[i])) {
      ++differ;
      ADD_FAILURE() << "answer " << i << " (" << (i % 2 ? "streamed" : "whole") << "): the gateway's flags differ from "
                    << "the scorers' in process: " << set[i].answer.substr(0, 60);
    }
    const bool flagged = !flags.empty();
    truePositives += flagged && set[i].bad;
    falsePositives += flagged && !set[i].bad;
    falseNegatives += !flagged && set[i].bad;
  }
  const double precision = truePositives / double(truePositives + falsePositives);
  const double recall = truePositives / double(truePositives + falseNegatives);
  std::cout << "through the gateway: precision " << precision << " recall " << recall << " (" << set.size()
            << " answers, half streamed)\n";
  EXPECT_EQ(differ, 0);
  EXPECT_GE(precision, 0.9);
  EXPECT_GE(recall, 0.8);
  // Every flag raised is counted under its own label, new flags included.
  const auto text = scrape(gw.adminPort());
  for (const char* flag : {"refusal", "wrong_language", "mojibake", "uninformative", "count_overrun", "repetition"})
    EXPECT_GT(seriesValue(text, "infergate_output_flags_total{model=\"mock-model\",flag=\"" + std::string(flag) + "\"}"),
              0)
        << flag;
}
