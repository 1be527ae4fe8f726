#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <array>
#include <fstream>
#include <map>
#include <iostream>
#include "filters/quality/language_id.hpp"
#include "filters/quality/repetition.hpp"
#include "filters/quality/scorers.hpp"
using namespace infergate::quality;
TEST(Scratch, Dump) {
  const char* want = getenv("SCRATCH_MATCH");
  if (!want) return;
  for (auto f : {"eval.jsonl", "multilingual.jsonl", "structured.jsonl"}) {
    std::ifstream in(std::string(INFERGATE_SOURCE_DIR) + "/tests/data/quality/" + f);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(want) == std::string::npos) continue;
      auto o = boost::json::parse(line).as_object();
      std::string a(o.at("answer").as_string()), p(o.at("prompt").as_string());
      auto s = repetitionStats(a);
      std::cout << a.substr(0, 60) << "\n words " << s.words << " lines " << s.lines << " structured " << s.structured
                << " dupLine " << s.duplicateLineFraction << " dupLineChar " << s.duplicateLineCharFraction << " top2-4 "
                << s.topNgramCharFraction[0] << "," << s.topNgramCharFraction[1] << "," << s.topNgramCharFraction[2]
                << " dup5-10 ";
      for (auto d : s.duplicateNgramCharFraction) std::cout << d << ",";
      std::cout << " lineDup " << s.lineDuplicateNgramCharFraction[0] << "," << s.lineDuplicateNgramCharFraction[1]
                << " periodic " << s.periodicShare << " ratio " << worstRepetitionRatio(s, RepetitionLimits{}) << "\n";
      auto pl = identifyLanguage(p), al = identifyLanguage(a);
      std::cout << " prompt lang " << pl.code << " " << pl.reliable << " answer lang " << al.code << " " << al.reliable << "\n";
    }
  }
}
TEST(Scratch, Refusal) {
  const char* want = getenv("SCRATCH_REFUSAL");
  if (!want) return;
  ScorerSettings s;
  std::cout << "refusal=" << isRefusal(want, s.refusalPhrases, 300) << " phrases=" << s.refusalPhrases.phrases().size() << "\n";
  RefusalPhrases only({foldForMatch("お応えできません")});
  std::cout << "only=" << isRefusal(want, only, 300) << "\n";
}
TEST(Scratch, Cld2Short) {
  if (!getenv("SCRATCH_CLD")) return;
  std::map<int, std::array<int, 4>> buckets;  // bucket -> right, wrong, abstain, total
  for (auto f : {"eval.jsonl", "multilingual.jsonl", "structured.jsonl", "blind_batch.jsonl", "third_batch.jsonl", "fourth_batch.jsonl"}) {
    std::ifstream in(std::string(INFERGATE_SOURCE_DIR) + "/tests/data/quality/" + f);
    std::string line;
    while (std::getline(in, line)) {
      auto o = boost::json::parse(line).as_object();
      std::string lang(o.at("lang").as_string());
      for (auto field : {"prompt"}) {
        std::string t(o.at(field).as_string());
        if (field == std::string("answer") && o.at("bad").as_bool()) continue;  // bad answers may be in another language
        const int b = t.size() < 20 ? 0 : t.size() < 40 ? 1 : t.size() < 80 ? 2 : t.size() < 160 ? 3 : 4;
        auto g = identifyLanguage(t);
        auto& c = buckets[b];
        ++c[3];
        std::string code = g.code;
        if (code == "zh-Hant") code = "zh-hant";
        if (!g.reliable) ++c[2];
        else if (code == lang || (lang == "zh-hant" && code == "zh") || (lang == "zh" && code == "zh-hant")) ++c[0];
        else { ++c[1]; if (getenv("SCRATCH_WRONG")) std::cout << lang << " -> " << code << ": " << t.substr(0, 60) << "\n"; }
      }
    }
  }
  const char* names[] = {"<20 B", "20-39 B", "40-79 B", "80-159 B", ">=160 B"};
  for (auto& [b, c] : buckets)
    std::cout << names[b] << ": " << c[3] << " texts, right " << c[0] << ", wrong " << c[1] << ", abstained " << c[2] << "\n";
}
