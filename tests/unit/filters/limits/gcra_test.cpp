#include "filters/limits/gcra.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using infergate::limits::Gcra;

namespace {
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0 = 1'000 * kSecond;  // any steady-clock reading
}  // namespace

TEST(Gcra, TheWholeRateAtOnceThenOneUnitPerInterval) {
  Gcra perMinute(60, 60 * kSecond);  // one a second
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(perMinute.take(kT0, 1).admitted) << i;
  const auto refused = perMinute.take(kT0, 1);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.waitNs, kSecond);
  EXPECT_EQ(perMinute.remaining(kT0), 0u);
  EXPECT_EQ(perMinute.resetNs(kT0), 60 * kSecond);
  EXPECT_TRUE(perMinute.take(kT0 + kSecond, 1).admitted);  // one second later, one more
  EXPECT_FALSE(perMinute.take(kT0 + kSecond, 1).admitted);
  EXPECT_EQ(perMinute.remaining(kT0 + 61 * kSecond), 60u);  // whole again
}

TEST(Gcra, CostsRefundsAndSettling) {
  Gcra tokens(1000, 60 * kSecond);
  EXPECT_TRUE(tokens.take(kT0, 900).admitted);
  EXPECT_FALSE(tokens.take(kT0, 200).admitted);
  tokens.adjust(kT0, -880);  // the answer used 20, not 900
  EXPECT_EQ(tokens.remaining(kT0), 980u);
  EXPECT_TRUE(tokens.take(kT0, 900).admitted);
  tokens.adjust(kT0, 500);  // used more than estimated: overdrawn, the next waits
  EXPECT_EQ(tokens.remaining(kT0), 0u);
  EXPECT_FALSE(tokens.take(kT0, 1).admitted);
  // Refunds never bank credit from the past beyond one full bucket.
  Gcra fresh(10, kSecond);
  fresh.adjust(kT0, -100);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(fresh.take(kT0, 1).admitted);
  EXPECT_FALSE(fresh.take(kT0, 1).admitted);
}

TEST(Gcra, WorkersTakingAtOnceNeverExceedTheRate) {
  Gcra perMinute(1000, 60 * kSecond);
  std::atomic<int> admitted{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) admitted += perMinute.take(kT0, 1).admitted;
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(admitted.load(), 1000);
}
