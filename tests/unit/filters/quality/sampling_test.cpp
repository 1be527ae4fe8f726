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

TEST(Sampling, MinuteBudgetCapsAcrossThreads) {
  MinuteBudget budget(1000);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) taken += budget.take(7);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1000);
  EXPECT_FALSE(budget.take(7));
  EXPECT_TRUE(budget.take(8));  // a new minute
  int more = 1;
  while (budget.take(8)) ++more;
  EXPECT_EQ(more, 1000);
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
