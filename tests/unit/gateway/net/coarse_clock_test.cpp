#include "gateway/net/coarse_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace std::chrono;

// The coarse clocks lag the precise ones by at most a kernel tick (1-10 ms);
// 50 ms leaves room for a descheduled test without hiding a wrong epoch or unit.
TEST(CoarseClock, SteadyAgreesWithTheMonotonicClockToATick) {
  const auto precise = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  const auto coarse = duration_cast<milliseconds>(infergate::CoarseSteadyClock::now().time_since_epoch()).count();
  EXPECT_LE(coarse, precise + 1);
  EXPECT_GE(coarse, precise - 50);
}

TEST(CoarseClock, WallMillisecondsAgreeWithTheSystemClock) {
  const auto precise = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const auto coarse = infergate::coarseWallMilliseconds();
  EXPECT_LE(coarse, precise + 1);
  EXPECT_GE(coarse, precise - 50);
}

TEST(CoarseClock, SteadyNeverGoesBack) {
  auto last = infergate::CoarseSteadyClock::now();
  for (int i = 0; i < 100000; ++i) {
    const auto now = infergate::CoarseSteadyClock::now();
    ASSERT_GE(now, last);
    last = now;
  }
}
