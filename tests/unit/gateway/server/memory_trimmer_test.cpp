#include "gateway/server/memory_trimmer.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
constexpr std::size_t MiB = 1024 * 1024;
MemoryLoad connections(std::size_t n) { return {n, 0}; }
}  // namespace

// A burst of streams: resident memory grows with the connections; once they
// have gone (at most half the peak, two looks in a row), the memory is given
// back; then nothing more until memory grows again and another burst ends.
TEST(TrimDecision, TrimsOnceABurstIsOverAndNotAgainUntilAnotherOne) {
  TrimDecision d(8 * MiB);
  d.trimmed(11 * MiB, connections(0));  // the idle process
  EXPECT_FALSE(d.look(11 * MiB, connections(2)));
  EXPECT_FALSE(d.look(34 * MiB, connections(8000))) << "during the burst";
  EXPECT_FALSE(d.look(34 * MiB, connections(8000)));
  EXPECT_FALSE(d.look(34 * MiB, connections(3000))) << "over half gone at one look only";
  EXPECT_TRUE(d.look(34 * MiB, connections(40))) << "gone at two looks in a row, 23 MiB over idle";
  d.trimmed(25 * MiB, connections(40));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.look(25 * MiB, connections(40))) << i;
  // Another burst, past the last trim's level by more than min_free.
  EXPECT_FALSE(d.look(36 * MiB, connections(5000)));
  EXPECT_FALSE(d.look(36 * MiB, connections(100)));
  EXPECT_TRUE(d.look(36 * MiB, connections(100)));
}

// A steady heavy load never trims (a trim would only make the load fault its
// pages in again), however much memory it holds.
TEST(TrimDecision, ASteadyLoadIsNeverTrimmed) {
  TrimDecision d(8 * MiB);
  d.trimmed(11 * MiB, {});
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(d.look(120 * MiB, {32, 6 * MiB})) << i;
  // The load drops by half only for a moment: still no trim.
  EXPECT_FALSE(d.look(120 * MiB, {32, 2 * MiB}));
  EXPECT_FALSE(d.look(120 * MiB, {32, 6 * MiB}));
  // The large prompts stop (the connections stay, idle): their bodies' memory goes back.
  EXPECT_FALSE(d.look(120 * MiB, {32, 0}));
  EXPECT_TRUE(d.look(120 * MiB, {32, 0}));
}

TEST(TrimDecision, GrowthUnderMinFreeIsKept) {
  TrimDecision d(8 * MiB);
  d.trimmed(10 * MiB, {});
  EXPECT_FALSE(d.look(17 * MiB, connections(500)));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(d.look(17 * MiB, connections(0))) << i;  // 7 MiB over idle: not worth a trim
  // The level it measures from follows resident memory down.
  EXPECT_FALSE(d.look(9 * MiB, connections(0)));
  EXPECT_TRUE(d.look(17 * MiB, connections(0)));
}
