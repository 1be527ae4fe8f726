// The repetition and compression scorers against a corpus of realistic answers
// (tests/data/repetition): good structured answers (stylesheets, tables,
// command lists, records, tests, configs) must stay unflagged; answers stuck in
// a loop, long or short, must be flagged.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "filters/quality/repetition.hpp"
#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

namespace {

std::vector<std::pair<std::string, std::string>> corpus(const std::string& kind) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(INFERGATE_SOURCE_DIR) + "/tests/data/repetition/" + kind)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    out.emplace_back(entry.path().filename().string(), text.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

QualityReport score(const std::string& text) {
  ScorerInput in;
  in.text = text;
  in.finishReason = "stop";
  return scoreOutput(in, ScorerSettings{});
}

}  // namespace

TEST(RepetitionCorpus, GoodStructuredAnswersStayUnflagged) {
  const auto good = corpus("good");
  ASSERT_GE(good.size(), 10u);
  for (const auto& [name, text] : good) {
    const auto r = score(text);
    EXPECT_FALSE(r.has(OutputFlag::Repetition)) << name << " repetition ratio " << r.repetitionRatio;
    EXPECT_FALSE(r.has(OutputFlag::Compressible)) << name << " compression ratio " << r.compressionRatio;
  }
}

TEST(RepetitionCorpus, LoopingAnswersAreFlagged) {
  const auto bad = corpus("bad");
  ASSERT_GE(bad.size(), 7u);
  for (const auto& [name, text] : bad) {
    const auto r = score(text);
    EXPECT_TRUE(r.has(OutputFlag::Repetition)) << name << " repetition ratio " << r.repetitionRatio;
  }
}
