#include "filters/quality/sampling.hpp"
#include "filters/quality/feedback_stats.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include <string>
#include <thread>
#include <vector>

namespace infergate::quality {
namespace {

TEST(Sampling, SameIdSameDecision) {
  const auto t = rateThreshold(0.3);
  for (int i = 0; i < 1000; ++i) {
    const auto id = "req-" + std::to_string(i);
    EXPECT_EQ(sampledAt(requestHash(id), t), sampledAt(requestHash(std::string(id)), t));
  }
  EXPECT_EQ(requestHash("abc"), requestHash("abc"));
  EXPECT_NE(requestHash("abc"), requestHash("abd"));
  EXPECT_NE(requestHash("abc", 1), requestHash("abc", 2));
}

TEST(Sampling, RateIsHonoured) {
  for (double rate : {0.01, 0.1, 0.5}) {
    const auto t = rateThreshold(rate);
    int hits = 0;
    const int n = 100'000;
    for (int i = 0; i < n; ++i) hits += sampledAt(requestHash("id-" + std::to_string(i)), t);
    // Binomial: 5 standard deviations.
    const double sd = std::sqrt(n * rate * (1 - rate));
    EXPECT_NEAR(hits, n * rate, 5 * sd) << rate;
  }
  EXPECT_FALSE(sampledAt(requestHash("x"), rateThreshold(0)));
  EXPECT_TRUE(sampledAt(requestHash("x"), rateThreshold(1)));
}

TEST(Sampling, HigherRateSamplesASuperset) {
  // A request sampled at 1% is also sampled at 10%: raising the rate never un-samples.
  const auto low = rateThreshold(0.01), high = rateThreshold(0.1);
  for (int i = 0; i < 20'000; ++i) {
    const auto h = requestHash("r" + std::to_string(i));
    if (sampledAt(h, low)) {
      EXPECT_TRUE(sampledAt(h, high));
    }
  }
}

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(Sampling, BudgetTakesTheBurstThenOneTokenPerInterval) {
  SampleBudget budget(60, 5);  // one token a second, five back to back
  const std::int64_t t0 = 1000 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.take(t0)) << i;
  EXPECT_FALSE(budget.take(t0));
  EXPECT_FALSE(budget.take(t0 + kSecond - 1));
  EXPECT_TRUE(budget.take(t0 + kSecond));
  EXPECT_FALSE(budget.take(t0 + kSecond));
  // Idle time refills the bucket, but never beyond the burst.
  int taken = 0;
  while (budget.take(t0 + 3600 * kSecond)) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(Sampling, BudgetSpreadsTheMinuteEvenly) {
  // Offered 100 candidates a second for three minutes, a 600/min budget takes
  // 10 a second in every second after the first (which also has the burst of
  // 50), not the whole minute's worth at its start.
  SampleBudget budget(600, 0);  // default burst: 600 / 12 = 50
  std::vector<int> perSecond(180);
  for (int ms = 0; ms < 180'000; ms += 10)
    perSecond[ms / 1000] += budget.take(7 * kSecond + std::int64_t{ms} * 1'000'000);
  EXPECT_GE(perSecond[0], 50);
  EXPECT_LE(perSecond[0], 50 + 10);
  for (int s = 1; s < 180; ++s) EXPECT_EQ(perSecond[s], 10) << "second " << s;
  int total = 0;
  for (int n : perSecond) total += n;
  EXPECT_LE(total, 3 * 600 + 50);
  // What the budget promises for any minute: max_per_minute + burst at most.
  for (int start = 0; start + 60 <= 180; ++start) {
    int window = 0;
    for (int s = start; s < start + 60; ++s) window += perSecond[s];
    EXPECT_LE(window, 600 + 50) << "minute starting at second " << start;
    EXPECT_GE(window, 600) << "minute starting at second " << start;
  }
}

TEST(Sampling, BudgetCapsAcrossThreads) {
  SampleBudget budget(6000, 1000);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) taken += budget.take(7 * kSecond);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1000);
  EXPECT_FALSE(budget.take(7 * kSecond));
  EXPECT_TRUE(budget.take(7 * kSecond + kSecond / 100));  // 10 ms earns one
}

TEST(Sampling, ZeroBudgetTakesNothing) {
  SampleBudget budget(0, 5);
  EXPECT_FALSE(budget.take(0));
  EXPECT_FALSE(budget.take(3600 * kSecond));
}

TEST(Agreement, PrecisionRecallF1OnAKnownSet) {
  // 10 labelled samples: predicted bad on 4 (3 right), labelled bad 5.
  Agreement a;
  const bool predicted[10] = {true, true, true, true, false, false, false, false, false, false};
  const bool labelled[10] = {true, true, true, false, true, true, false, false, false, false};
  for (int i = 0; i < 10; ++i) a.add(predicted[i], labelled[i]);
  EXPECT_EQ(a.truePositive, 3u);
  EXPECT_EQ(a.falsePositive, 1u);
  EXPECT_EQ(a.falseNegative, 2u);
  EXPECT_DOUBLE_EQ(*a.precision(), 0.75);
  EXPECT_DOUBLE_EQ(*a.recall(), 0.6);
  EXPECT_NEAR(*a.f1(), 2 * 0.75 * 0.6 / 1.35, 1e-12);
  Agreement none;
  none.add(false, false);
  EXPECT_FALSE(none.precision());
  EXPECT_FALSE(none.recall());
  EXPECT_FALSE(none.f1());
}

}  // namespace
}  // namespace infergate::quality
