// Every scorer over the labelled prompt/answer pairs in tests/data/quality/
// (every *.jsonl there: good answers of every shape and bad ones of every kind
// the scorers look for, in many languages). The combined flag (any flag
// raised) must keep its precision and recall; per-flag numbers are in
// docs/quality.md.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "filters/quality/language_id.hpp"
#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

namespace {

struct Labelled {
  std::string file, lang, kind, prompt, answer;
  bool bad = false;
};

std::vector<Labelled> evaluationSet() {
  std::vector<Labelled> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(INFERGATE_SOURCE_DIR) + "/tests/data/quality"))
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

// What the quality pipeline gives the scorers for this pair.
QualityReport score(const Labelled& item) {
  const std::string prompt = "user: " + item.prompt;
  ScorerInput in;
  in.text = item.answer;
  in.finishReason = "stop";
  const auto stats = textStats(item.prompt);
  in.promptScript = stats.dominant();
  const auto asked = readPrompt(prompt);  // as the quality pipeline does
  asked.applyTo(in);
  return scoreOutput(in, ScorerSettings{});
}

}  // namespace

TEST(QualityEvaluation, TheCombinedFlagKeepsItsPrecisionAndRecall) {
  const auto set = evaluationSet();
  ASSERT_GE(set.size(), 300u);
  std::set<std::string> languages;
  int bad = 0;
  for (const auto& item : set) {
    languages.insert(item.lang);
    bad += item.bad;
  }
  EXPECT_GE(languages.size(), 8u);
  std::cout << set.size() << " answers in " << languages.size() << " languages, " << bad << " bad\n";
  int truePositives = 0, falsePositives = 0, falseNegatives = 0;
  std::array<int, kFlagCount> raised{}, raisedOnBad{};
  for (const auto& item : set) {
    const auto report = score(item);
    for (std::size_t f = 0; f < kFlagCount; ++f)
      if (report.flags & (1u << f)) {
        ++raised[f];
        raisedOnBad[f] += item.bad;
      }
    const bool flagged = report.flags != 0;
    if (flagged && item.bad) ++truePositives;
    if (flagged && !item.bad) {
      ++falsePositives;
      std::string flags;
      for (std::size_t f = 0; f < kFlagCount; ++f)
        if (report.flags & (1u << f)) flags += std::string(kFlagNames[f]) + " ";
      std::cout << "good answer flagged (" << flags << ") [" << item.file << " " << item.lang << " " << item.kind << "]: " << item.answer.substr(0, 80) << "\n";
    }
    if (!flagged && item.bad) {
      ++falseNegatives;
      std::cout << "missed bad answer [" << item.file << " " << item.lang << " " << item.kind << "]: " << item.answer.substr(0, 80) << "\n";
    }
  }
  // Per kind of answer (the files that name kinds): how many were flagged.
  std::map<std::string, std::pair<int, int>> byKind;  // kind -> (flagged, all)
  for (const auto& item : set)
    if (!item.kind.empty()) {
      auto& [flagged, all] = byKind[item.kind + (item.bad ? " (bad)" : " (good)")];
      flagged += score(item).flags != 0;
      ++all;
    }
  for (const auto& [kind, counts] : byKind)
    std::cout << "kind " << kind << ": flagged " << counts.first << " of " << counts.second << "\n";
  const double precision = truePositives / double(truePositives + falsePositives);
  const double recall = truePositives / double(truePositives + falseNegatives);
  RecordProperty("precision", std::to_string(precision));
  RecordProperty("recall", std::to_string(recall));
  std::cout << "precision " << precision << " recall " << recall << " (" << set.size() << " answers)\n";
  for (std::size_t f = 0; f < kFlagCount; ++f)
    if (raised[f] > 0) std::cout << "flag " << kFlagNames[f] << ": raised " << raised[f] << ", on bad answers " << raisedOnBad[f] << "\n";
  EXPECT_GE(precision, 0.9);
  EXPECT_GE(recall, 0.8);
}
