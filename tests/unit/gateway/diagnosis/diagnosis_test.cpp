#include "gateway/diagnosis/diagnosis.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace infergate;
using namespace infergate::diagnosis;

namespace {

// One backend ("vllm", label 1) and one model ("llama", label 2).
constexpr std::size_t kModels = 3, kModel = 2, kBackend = 1;
const Names kNames{{"none", "vllm"}, {"none", "other", "llama"}};
const std::vector<double> kBounds{0.1, 0.2, 0.4, 0.8};

Snapshot empty(double at) {
  Snapshot s;
  s.atSeconds = at;
  s.pairs.resize(2 * kModels);
  for (auto& p : s.pairs) p.ttft.assign(kBounds.size() + 1, 0);
  s.models.resize(kModels);
  return s;
}

// `before` holds `n` healthy requests (answers scored, fast first tokens);
// `now` adds `m` more with whatever `change` does to the window's counts.
template <class Change>
std::pair<Snapshot, Snapshot> window(std::uint64_t n, std::uint64_t m, Change change) {
  auto before = empty(100), now = empty(400);
  auto fill = [](Snapshot& s, std::uint64_t k) {
    auto& pair = s.pairs[kBackend * kModels + kModel];
    pair.requests += k;
    pair.ttft[1] += k;  // 0.1-0.2 s
    s.models[kModel].requests += k;
    s.models[kModel].scored += k / 2;
    s.models[kModel].flags[static_cast<std::size_t>(quality::OutputFlag::Refusal)] += k / 50;  // 4% of scored
  };
  fill(before, n);
  fill(now, n);
  fill(now, m);
  change(now);
  return {before, now};
}

boost::json::object entryOf(const std::string& json) {
  auto v = boost::json::parse(json);
  const auto& entries = v.at("entries").as_array();
  EXPECT_EQ(entries.size(), 1u) << json;
  return entries.empty() ? boost::json::object{} : entries[0].as_object();
}

std::string run(const std::pair<Snapshot, Snapshot>& w, std::vector<ModelDrift> drift = {},
                std::vector<BackendBreakers> breakers = {}) {
  drift.resize(kModels);
  breakers.resize(2);
  return diagnose(w.first, w.second, kBounds, drift, breakers, kNames, Settings{});
}

}  // namespace

TEST(Diagnosis, HealthyTrafficNamesNothing) {
  const auto e = entryOf(run(window(1000, 500, [](Snapshot&) {})));
  EXPECT_EQ(e.at("verdict").as_string(), "none");
  EXPECT_EQ(e.at("evidence").as_string(), "input: normal; deployment: normal; model: normal");
  EXPECT_EQ(e.at("requests").as_int64(), 500);
}

TEST(Diagnosis, RefusalsAboveTheirBaselineAreTheModelsFault) {
  const auto e = entryOf(run(window(1000, 500, [](Snapshot& now) {
    now.models[kModel].flags[static_cast<std::size_t>(quality::OutputFlag::Refusal)] += 30;  // 14% + 4% of 250
  })));
  EXPECT_EQ(e.at("verdict").as_string(), "model");
  EXPECT_NE(e.at("evidence").as_string().find("model: refusal 16% vs 4.0% baseline"), std::string::npos)
      << e.at("evidence").as_string();
  EXPECT_NE(e.at("evidence").as_string().find("deployment: normal"), std::string::npos);
}

TEST(Diagnosis, ErrorsOpenBreakersAndSlowFirstTokensAreTheDeployments) {
  auto errors = entryOf(run(window(1000, 500, [](Snapshot& now) { now.pairs[kBackend * kModels + kModel].errors += 100; })));
  EXPECT_EQ(errors.at("verdict").as_string(), "deployment");
  EXPECT_NE(errors.at("evidence").as_string().find("deployment: errors 20% vs 0.0% baseline"), std::string::npos)
      << errors.at("evidence").as_string();

  auto breaker = entryOf(run(window(1000, 500, [](Snapshot&) {}), {}, {{}, {1, 3}}));
  EXPECT_EQ(breaker.at("verdict").as_string(), "deployment");
  EXPECT_NE(breaker.at("evidence").as_string().find("1 of 3 endpoints ejected"), std::string::npos);

  auto slow = entryOf(run(window(1000, 500, [](Snapshot& now) {
    auto& ttft = now.pairs[kBackend * kModels + kModel].ttft;
    ttft[1] -= 500;  // the window's first tokens took 0.4-0.8 s, not 0.1-0.2 s
    ttft[3] += 500;
  })));
  EXPECT_EQ(slow.at("verdict").as_string(), "deployment");
  EXPECT_NE(slow.at("evidence").as_string().find("TTFT p90"), std::string::npos);
}

TEST(Diagnosis, DriftRejectionsAndAnomaliesAreTheInputs) {
  auto drifted = entryOf(run(window(1000, 500, [](Snapshot&) {}), {{}, {}, {2, 0.41, "prompt_chars"}}));
  EXPECT_EQ(drifted.at("verdict").as_string(), "input");
  EXPECT_NE(drifted.at("evidence").as_string().find("input: PSI of prompt_chars 0.41"), std::string::npos);

  auto rejected = entryOf(run(window(1000, 500, [](Snapshot& now) { now.models[kModel].rejected += 60; })));
  EXPECT_EQ(rejected.at("verdict").as_string(), "input");

  // The multivariate detector flags about 1% of usual traffic: that is normal.
  auto usual = entryOf(run(window(1000, 500, [](Snapshot& now) { now.models[kModel].multivariate += 5; })));
  EXPECT_EQ(usual.at("verdict").as_string(), "none");
  auto unusual = entryOf(run(window(1000, 500, [](Snapshot& now) { now.models[kModel].multivariate += 100; })));
  EXPECT_EQ(unusual.at("verdict").as_string(), "input");
}

TEST(Diagnosis, TheWorstStageIsNamedAndTooLittleTrafficIsNotJudged) {
  // Errors at 20% (severity 4) and refusals at 16% vs 4% (severity 2): the deployment.
  auto both = entryOf(run(window(1000, 500, [](Snapshot& now) {
    now.pairs[kBackend * kModels + kModel].errors += 100;
    now.models[kModel].flags[static_cast<std::size_t>(quality::OutputFlag::Refusal)] += 30;
  })));
  EXPECT_EQ(both.at("verdict").as_string(), "deployment");
  EXPECT_NE(both.at("evidence").as_string().find("model: refusal"), std::string::npos);  // both are shown

  auto few = entryOf(run(window(1000, 10, [](Snapshot& now) { now.pairs[kBackend * kModels + kModel].errors += 5; })));
  EXPECT_EQ(few.at("verdict").as_string(), "none");  // 10 requests: below the minimum to judge a share
}
