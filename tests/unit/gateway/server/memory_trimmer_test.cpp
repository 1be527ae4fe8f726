#include "gateway/server/memory_trimmer.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
constexpr std::size_t MiB = 1024 * 1024;
}

// A burst: resident memory grows while the allocator has little free; once it
// is over, the freed memory is free at two looks in a row and is given back;
// then nothing more until resident memory has grown again.
TEST(TrimDecision, TrimsOnceABurstIsOverAndNotAgainUntilMemoryGrowsAgain) {
  TrimDecision d(8 * MiB);
  d.trimmed(11 * MiB);  // the idle process
  EXPECT_FALSE(d.look(1 * MiB, 11 * MiB));
  EXPECT_FALSE(d.look(2 * MiB, 34 * MiB)) << "during the burst: nothing free to give";
  EXPECT_FALSE(d.look(2 * MiB, 34 * MiB));
  EXPECT_FALSE(d.look(20 * MiB, 34 * MiB)) << "freed at one look only: the load may take it back";
  EXPECT_TRUE(d.look(20 * MiB, 34 * MiB)) << "free at two looks in a row, 23 MiB over idle";
  d.trimmed(25 * MiB);
  // The allocator still counts the trimmed memory as free: no trim for that.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.look(20 * MiB, 25 * MiB)) << i;
  // Another burst, past the last trim's level by more than min_free.
  EXPECT_FALSE(d.look(3 * MiB, 36 * MiB));
  EXPECT_FALSE(d.look(19 * MiB, 36 * MiB));
  EXPECT_TRUE(d.look(19 * MiB, 36 * MiB));
}

TEST(TrimDecision, FreeMemoryTakenBackBetweenLooksStartsTheCountAgain) {
  TrimDecision d(8 * MiB);
  d.trimmed(10 * MiB);
  EXPECT_FALSE(d.look(9 * MiB, 30 * MiB));
  EXPECT_FALSE(d.look(7 * MiB, 30 * MiB)) << "under min_free: the load is using it";
  EXPECT_FALSE(d.look(9 * MiB, 30 * MiB));
  EXPECT_TRUE(d.look(9 * MiB, 30 * MiB));
}

TEST(TrimDecision, GrowthUnderMinFreeIsKept) {
  TrimDecision d(8 * MiB);
  d.trimmed(10 * MiB);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(d.look(9 * MiB, 17 * MiB)) << i;  // 7 MiB over idle: not worth a trim
  // The level it measures from follows resident memory down.
  EXPECT_FALSE(d.look(9 * MiB, 9 * MiB));
  EXPECT_TRUE(d.look(9 * MiB, 17 * MiB));
}
