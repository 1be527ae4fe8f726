// Every scorer over the labelled prompt/answer pairs in tests/data/quality/
// (every *.jsonl there: good answers of every shape and bad ones of every kind
// the scorers look for, in many languages). The combined flag (any flag
// raised) must keep its precision and recall; per-flag numbers are in
// docs/quality.md.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "filters/quality/scorers.hpp"
#include "support/labelled_answers.hpp"

using namespace infergate::quality;

using testsupport::LabelledAnswer;

namespace {

std::vector<LabelledAnswer> evaluationSet() { return testsupport::labelledAnswers(INFERGATE_SOURCE_DIR); }
QualityReport score(const LabelledAnswer& item) { return testsupport::scoreInProcess(item); }

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
