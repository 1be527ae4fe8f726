// Cost of reading a request body: one simdjson On-Demand pass that extracts the
// facts routing, validation and profiling need, checks the OpenAI request
// rules, and bins the input features.
//   build/loadtest/request_facts_bench
#include <benchmark/benchmark.h>

#include <string>

#include "filters/profile/features.hpp"
#include "filters/core/request_facts.hpp"

namespace {

std::string chatRequest(std::size_t promptBytes) {
  std::string prompt;
  while (prompt.size() < promptBytes) prompt += "The quick brown fox jumps over the lazy dog. ";
  prompt.resize(promptBytes);
  return R"({"model":"llama-3.1-8b-instruct","messages":[{"role":"system","content":"You are a helpful assistant."},)"
         R"({"role":"user","content":")" + prompt + R"("}],"max_tokens":256,"temperature":0.7,"top_p":0.9,"stream":true,)"
         R"("stop":["\n\n"],"stream_options":{"include_usage":true}})";
}

void parseAndValidate(benchmark::State& state, std::size_t promptBytes) {
  const std::string original = chatRequest(promptBytes);
  std::string body = original;
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  infergate::RequestFacts facts;
  for (auto _ : state) {
    infergate::extractRequestFacts(parser, body, facts);
    auto bins = infergate::profile::binsOf(facts);  // profiling: the bins counted per request
    benchmark::DoNotOptimize(bins);
  }
  if (facts.violation != infergate::InputViolation::None) state.SkipWithError(facts.error.c_str());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void BM_ParseValidate_1KB(benchmark::State& state) { parseAndValidate(state, 760); }
void BM_ParseValidate_200KB(benchmark::State& state) { parseAndValidate(state, 200 * 1024); }

}  // namespace

BENCHMARK(BM_ParseValidate_1KB);
BENCHMARK(BM_ParseValidate_200KB);
BENCHMARK_MAIN();
