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

// The checks, in a process whose heap holds nothing of other tests: glibc's
// thresholds are its defaults (a block over 128 KiB is mapped) until
// tuneMalloc changes them, and a freed block at the top of the arena is
// measurable. Exits 0 when every check holds, else with the failed check's
// number.
[[noreturn]] void checkInFreshHeap() {
  infergate::tuneMalloc();
  const auto mappedBefore = mallinfo2().hblks;
  void* body = kept(std::malloc(1024 * 1024));
  if (body == nullptr) std::_Exit(1);
  std::memset(body, 1, 1024 * 1024);
  if (mallinfo2().hblks != mappedBefore) std::_Exit(2);  // not a mapping of its own
  const auto keptBefore = mallinfo2().keepcost;
  std::free(kept(body));
  // Freed at the top of the arena and kept (under the 64 MiB trim threshold),
  // not handed back to the kernel.
  if (mallinfo2().keepcost < keptBefore + 1024 * 1024) std::_Exit(3);
  void* big = kept(std::malloc(8 * 1024 * 1024));  // past 4 MiB: mapped, unmapped when freed
  if (mallinfo2().hblks != mappedBefore + 1) std::_Exit(4);
  std::free(kept(big));
  std::_Exit(0);
}
}  // namespace

// ctest runs each test in a process of its own, but the whole unit_tests
// binary runs them in one, where earlier tests leave blocks above the arena's
// top: the "threadsafe" death-test style runs the checks in a fresh
// execution of the binary, whichever way the test is run.
TEST(MallocTuning, BodiesOfMegabytesComeFromTheArenaAndFreedOnesAreKept) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(checkInFreshHeap(), ::testing::ExitedWithCode(0), "");
}
