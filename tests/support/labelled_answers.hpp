#pragma once
// The labelled prompt/answer pairs of tests/data/quality (every *.jsonl), and
// the report the scorers give one of them as the quality pipeline calls them:
// shared by the in-process evaluation (unit) and its replay through a real
// gateway (integration).
#include <boost/json/parse.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "filters/quality/prompt_reading.hpp"
#include "filters/quality/scorers.hpp"

namespace testsupport {

struct LabelledAnswer {
  std::string file, lang, kind, prompt, answer;
  bool bad = false;
};

inline std::vector<LabelledAnswer> labelledAnswers(const std::string& sourceDir) {
  std::vector<LabelledAnswer> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(sourceDir + "/tests/data/quality"))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      const auto o = boost::json::parse(line).as_object();
      const auto* kind = o.if_contains("kind");
      out.push_back({file.filename().string(), std::string(o.at("lang").as_string()),
                     kind ? std::string(kind->as_string()) : std::string(), std::string(o.at("prompt").as_string()),
                     std::string(o.at("answer").as_string()), o.at("bad").as_bool()});
    }
  }
  return out;
}

// What the quality pipeline gives the scorers for this pair (the prompt as
// extractPrompt writes a single user message).
inline infergate::quality::QualityReport scoreInProcess(const LabelledAnswer& item) {
  namespace q = infergate::quality;
  const std::string prompt = "user: " + item.prompt;
  q::ScorerInput in;
  in.text = item.answer;
  in.finishReason = "stop";
  in.promptScript = q::textStats(item.prompt).dominant();
  const auto reading = q::readPrompt(prompt);
  reading.applyTo(in);
  return q::scoreOutput(in, q::ScorerSettings{});
}

}  // namespace testsupport
