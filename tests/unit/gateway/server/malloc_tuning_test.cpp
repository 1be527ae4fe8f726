#include "gateway/server/malloc_tuning.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace {
// Keeps the compiler from eliding an allocation whose memory is never read.
void* kept(void* p) {
  asm volatile("" : : "r"(p) : "memory");
  return p;
}
}  // namespace

// ctest runs each test in a process of its own, so glibc's thresholds here are
// its defaults (a block over 128 KiB is mapped) until tuneMalloc changes them.
TEST(MallocTuning, BodiesOfMegabytesComeFromTheArenaAndFreedOnesAreKept) {
  infergate::tuneMalloc();
  const auto mappedBefore = mallinfo2().hblks;
  void* body = kept(std::malloc(1024 * 1024));
  ASSERT_NE(body, nullptr);
  std::memset(body, 1, 1024 * 1024);
  EXPECT_EQ(mallinfo2().hblks, mappedBefore);  // not a mapping of its own
  const auto keptBefore = mallinfo2().keepcost;
  std::free(kept(body));
  // Freed at the top of the arena and kept (under the 64 MiB trim threshold),
  // not handed back to the kernel.
  EXPECT_GE(mallinfo2().keepcost, keptBefore + 1024 * 1024);
  void* big = kept(std::malloc(8 * 1024 * 1024));  // past 4 MiB: mapped, unmapped when freed
  EXPECT_EQ(mallinfo2().hblks, mappedBefore + 1);
  std::free(kept(big));
}
