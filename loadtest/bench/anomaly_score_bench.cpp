// What the multivariate anomaly score costs a worker per request: one walk
// down each half-space tree of a learnt model (filters/profile/half_space_forest.hpp).
//   build/loadtest/anomaly_score_bench
#include <benchmark/benchmark.h>

#include <random>

#include "filters/profile/half_space_forest.hpp"

using namespace infergate;
using namespace infergate::profile;

namespace {

RequestFacts randomRequest(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  RequestFacts f;
  f.systemChars = static_cast<std::uint64_t>(std::exp(u(rng) * 8));
  f.lastUserChars = static_cast<std::uint64_t>(std::exp(u(rng) * 8));
  f.promptChars = f.systemChars + f.lastUserChars;
  f.messages = 1 + static_cast<std::uint32_t>(u(rng) * 20);
  f.hasMaxTokens = u(rng) < 0.7;
  f.maxTokens = 64 + static_cast<std::uint64_t>(u(rng) * 4000);
  f.hasTemperature = true;
  f.temperature = u(rng);
  f.tools = u(rng) < 0.3 ? static_cast<std::uint32_t>(u(rng) * 10) : 0;
  return f;
}

void BM_AnomalyScore(benchmark::State& state) {
  std::mt19937_64 rng(1);
  HalfSpaceForest forest(3);
  std::vector<FeatureVector> window;
  for (int i = 0; i < 1000; ++i) window.push_back(vectorOf(randomRequest(rng)));
  forest.learn(2, window);
  std::vector<RequestFacts> requests;
  for (int i = 0; i < 1024; ++i) requests.push_back(randomRequest(rng));
  std::size_t i = 0;
  for (auto _ : state) {
    // As the worker does: the vector from the request's facts, then the score.
    const auto& facts = requests[i++ & 1023];
    benchmark::DoNotOptimize(forest.anomalyScore(2, vectorOf(facts)));
  }
}
BENCHMARK(BM_AnomalyScore);

}  // namespace

BENCHMARK_MAIN();
