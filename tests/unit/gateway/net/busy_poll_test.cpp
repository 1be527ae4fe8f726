#include "gateway/net/busy_poll.hpp"

#include <gtest/gtest.h>

using infergate::BusyPollPolicy;
using namespace std::chrono_literals;

TEST(BusyPollPolicy, AFreshWorkerSleepsAtOnce) {
  BusyPollPolicy policy(50us);
  EXPECT_FALSE(policy.pollBeforeSleep());
}

TEST(BusyPollPolicy, PollsOnlyAfterShortSleeps) {
  BusyPollPolicy policy(50us);
  policy.slept(30us);  // events come fast: poll next time
  EXPECT_TRUE(policy.pollBeforeSleep());
  policy.slept(199us);  // still under four budgets
  EXPECT_TRUE(policy.pollBeforeSleep());
  policy.slept(200us);  // traffic thinned out: sleep at once
  EXPECT_FALSE(policy.pollBeforeSleep());
  policy.slept(20ms);
  EXPECT_FALSE(policy.pollBeforeSleep());
  policy.slept(10us);
  EXPECT_TRUE(policy.pollBeforeSleep());
}

TEST(BusyPollPolicy, AZeroBudgetNeverPolls) {
  BusyPollPolicy policy(0us);
  policy.slept(0ns);
  EXPECT_FALSE(policy.pollBeforeSleep());
}
