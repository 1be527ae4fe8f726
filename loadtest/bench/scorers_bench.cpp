// Cost of the heuristic output scorers (all of them, as the quality pipeline
// runs them) on a 1 KB answer, and of redaction. Off the request path, but it
// bounds how many samples a pipeline thread can score per second.
#include <benchmark/benchmark.h>

#include <string>

#include "filters/quality/language_id.hpp"
#include "filters/quality/list_items.hpp"
#include "filters/quality/prompt_reading.hpp"
#include "filters/quality/mojibake.hpp"
#include "filters/quality/redaction.hpp"
#include "filters/quality/scorers.hpp"

namespace {

std::string answerOf(std::size_t bytes) {
  const std::string sentences[] = {
      "The capital of France is Paris, a city on the river Seine. ",
      "It has been the seat of government for most of the last thousand years. ",
      "Visitors come for its museums, its cafes and its long boulevards. ",
      "About two million people live within the city limits today.\n",
  };
  std::string out;
  for (std::size_t i = 0; out.size() < bytes; ++i) out += sentences[i % 4] + std::to_string(i) + " ";
  out.resize(bytes);
  return out;
}

void BM_ScoreAll_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  infergate::quality::ScorerSettings settings;
  infergate::quality::ScorerInput in;
  in.text = text;
  in.finishReason = "stop";
  in.promptScript = infergate::quality::Script::Latin;
  in.promptLanguage = "en";  // the language check runs too
  in.maxTokens = 512;
  in.completionTokens = 256;
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::scoreOutput(in, settings));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScoreAll_1KB);

// A Chinese answer: the GBK re-encoding and the periodic rules read CJK text.
std::string chineseAnswerOf(std::size_t bytes) {
  const std::string sentences[] = {
      "北京是中国的首都，位于华北平原的北部。", "这座城市有三千多年的历史，保存了大量古迹。",
      "故宫、天坛和长城每年吸引数以百万计的游客。", "今天北京的常住人口超过两千万。\n"};
  std::string out;
  for (std::size_t i = 0; out.size() + 64 < bytes; ++i) out += sentences[i % 4];
  return out;
}

void BM_ScoreAll_Chinese_1KB(benchmark::State& state) {
  const auto text = chineseAnswerOf(1024);
  infergate::quality::ScorerSettings settings;
  infergate::quality::ScorerInput in;
  in.text = text;
  in.finishReason = "stop";
  in.promptScript = infergate::quality::Script::Cjk;
  in.promptLanguage = "zh";
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::scoreOutput(in, settings));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScoreAll_Chinese_1KB);

// Each of the scorers added for multilingual traffic, alone, per 1 KB.
void BM_IdentifyLanguage_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::identifyLanguage(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_IdentifyLanguage_1KB);

void BM_Mojibake_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::mojibakeStats(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Mojibake_1KB);

void BM_Refusal_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  const infergate::quality::ScorerSettings settings;
  for (auto _ : state)
    benchmark::DoNotOptimize(infergate::quality::isRefusal(text, settings.refusalPhrases, settings.refusalWindowBytes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Refusal_1KB);

void BM_ScoreAll_JsonMode_1KB(benchmark::State& state) {
  std::string json = "{\"items\":[";
  while (json.size() < 1000) json += "{\"name\":\"item\",\"value\":42},";
  json += "{}]}";
  infergate::quality::ScorerSettings settings;
  infergate::quality::ScorerInput in;
  in.text = json;
  in.finishReason = "stop";
  in.jsonRequested = true;
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::scoreOutput(in, settings));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_ScoreAll_JsonMode_1KB);

void BM_Redact_1KB(benchmark::State& state) {
  const auto text = answerOf(1024) + " mail jane@example.com key sk-proj-ABCDEFGHIJKLMNOPQRST";
  infergate::quality::Redactor redactor;
  for (auto _ : state) benchmark::DoNotOptimize(redactor.redact(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Redact_1KB);

}  // namespace

BENCHMARK_MAIN();

// The scorers added for issue 18, alone.
void BM_Mojibake_Chinese_1KB(benchmark::State& state) {  // the GBK re-encoding runs on CJK text
  const auto text = chineseAnswerOf(1024);
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::mojibakeStats(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Mojibake_Chinese_1KB);

void BM_Repetition_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::repetitionStats(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Repetition_1KB);

void BM_ListItems_1KB(benchmark::State& state) {
  const auto text = answerOf(1024);
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::enumeratedItems(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ListItems_1KB);

// Once per sample: the question's language (CLD2), requests and count.
void BM_ReadPrompt(benchmark::State& state) {
  const std::string prompt = "system: You are terse.\nuser: Name three rivers in Europe and say which is the longest.";
  for (auto _ : state) benchmark::DoNotOptimize(infergate::quality::readPrompt(prompt));
}
BENCHMARK(BM_ReadPrompt);
