// ZeroTable and ZeroPages: zeros until written, values kept through moves, and
// large tables resident only where written (mincore on the real mapping).
#include "metrics/zero_table.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace infergate::metrics {
namespace {

// Pages of [data, data + bytes) the kernel holds in memory.
std::size_t residentPages(const void* data, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((bytes + page - 1) / page);
  if (::mincore(const_cast<void*>(data), bytes, in.data()) != 0) return static_cast<std::size_t>(-1);
  std::size_t resident = 0;
  for (auto flag : in) resident += flag & 1;
  return resident;
}

TEST(ZeroTable, CellsStartAtZeroAndKeepWhatIsStored) {
  ZeroTable<std::uint64_t> counts(1 << 20);
  ZeroTable<double> sums(3);
  EXPECT_EQ(counts.size(), 1u << 20);
  EXPECT_EQ(counts.load(0), 0u);
  EXPECT_EQ(counts.load((1 << 20) - 1), 0u);
  counts.store(12345, 7);
  counts.store((1 << 20) - 1, 9);
  sums.store(2, 0.25);
  EXPECT_EQ(counts.load(12345), 7u);
  EXPECT_EQ(counts.load((1 << 20) - 1), 9u);
  EXPECT_EQ(counts.load(12344), 0u);
  EXPECT_EQ(sums.load(2), 0.25);
  EXPECT_EQ(sums.load(0), 0.0);

  ZeroTable<std::uint64_t> moved(std::move(counts));  // metric arrays live in vectors that grow
  EXPECT_EQ(moved.load(12345), 7u);
  ZeroTable<std::uint64_t> assigned(1);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.load((1 << 20) - 1), 9u);
}

// What the tables are for: 8 MiB of cells of which one is written hold one
// page (one 2 MiB page, 512 of 2,048, where transparent huge pages are always
// on), not all 2,048. A std::vector of zeros would hold them all.
TEST(ZeroPages, ALargeTableIsResidentOnlyWhereWritten) {
  constexpr std::size_t kBytes = 8u << 20;
  ZeroPages pages(kBytes);
  ASSERT_NE(pages.data(), nullptr);
  EXPECT_EQ(residentPages(pages.data(), kBytes), 0u);
  static_cast<unsigned char*>(pages.data())[kBytes / 2] = 1;
  const auto resident = residentPages(pages.data(), kBytes);
  EXPECT_GE(resident, 1u);
  EXPECT_LE(resident, 512u);
}

TEST(ZeroPages, ASmallTableIsAZeroedHeapBlock) {
  ZeroPages pages(ZeroPages::kOwnPagesFrom - 8);
  const auto* bytes = static_cast<const unsigned char*>(pages.data());
  for (std::size_t i = 0; i < ZeroPages::kOwnPagesFrom - 8; i += 4096) EXPECT_EQ(bytes[i], 0) << i;
  EXPECT_EQ(ZeroPages(0).data(), nullptr);
}

}  // namespace
}  // namespace infergate::metrics
