#include "gateway/net/busy_poll.hpp"

#include <gtest/gtest.h>

using infergate::BusyPollPolicy;
using namespace std::chrono_literals;

TEST(BusyPollPolicy, AFreshWorkerSleepsAtOnce) {
  BusyPollPolicy policy(50us);
  EXPECT_FALSE(policy.pollBeforeSleep());
}

// Events that come within the budget make polling pay: it starts after a few
// such short sleeps and goes on while polls find work.
TEST(BusyPollPolicy, PollsWhileEventsComeWithinTheBudget) {
  BusyPollPolicy policy(50us);
  int sleeps = 0;
  while (!policy.pollBeforeSleep() && sleeps < 20) {
    policy.slept(20us);
    ++sleeps;
  }
  EXPECT_TRUE(policy.pollBeforeSleep());
  EXPECT_LE(sleeps, 8);
  for (int i = 0; i < 100; ++i) policy.polled(true);
  EXPECT_TRUE(policy.pollBeforeSleep());
  // An occasional poll that finds nothing (one in four) does not stop it.
  for (int i = 0; i < 100; ++i) {
    policy.polled(i % 4 != 0);
    if (i % 4 == 0) policy.slept(300us, /*afterPoll=*/true);
  }
  EXPECT_TRUE(policy.pollBeforeSleep());
}

// Bursts milliseconds apart (thousands of streams whose tokens come
// together): polls after each burst find nothing, and polling stops; it
// starts again only when events come close together again.
TEST(BusyPollPolicy, StopsWhenPollsFindNothing) {
  BusyPollPolicy policy(50us);
  for (int i = 0; i < 20; ++i) policy.polled(true);
  ASSERT_TRUE(policy.pollBeforeSleep());
  int failed = 0;
  while (policy.pollBeforeSleep() && failed < 20) {
    policy.polled(false);
    policy.slept(2ms, /*afterPoll=*/true);
    ++failed;
  }
  EXPECT_FALSE(policy.pollBeforeSleep());
  EXPECT_LE(failed, 8);
  // Sleeping, long waits keep it off; short ones bring it back.
  for (int i = 0; i < 50; ++i) policy.slept(2ms);
  EXPECT_FALSE(policy.pollBeforeSleep());
  for (int i = 0; i < 20; ++i) policy.slept(10us);
  EXPECT_TRUE(policy.pollBeforeSleep());
}

TEST(BusyPollPolicy, AZeroBudgetNeverPolls) {
  BusyPollPolicy policy(0us);
  for (int i = 0; i < 20; ++i) policy.slept(0ns);
  EXPECT_FALSE(policy.pollBeforeSleep());
}
