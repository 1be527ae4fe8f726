#include "gateway/net/slot_slab.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

using namespace infergate;

TEST(SlotSlab, HandsOutDistinctAlignedSlotsAndUnmapsEmptySlabsButOne) {
  SlotSlab slab(1350);
  EXPECT_EQ(slab.slotBytes(), 1360u);  // rounded to 16
  const std::size_t perSlab = slab.slotsPerSlab();
  ASSERT_GE(perSlab, 40u);
  std::vector<void*> slots;
  std::set<std::uintptr_t> seen;
  for (std::size_t i = 0; i < 3 * perSlab; ++i) {
    void* p = slab.take();
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    EXPECT_EQ(at % 16, 0u);
    EXPECT_TRUE(seen.insert(at).second) << "slot handed out twice";
    std::memset(p, 0xab, slab.slotBytes());  // the whole slot is ours: no header overwritten
    slots.push_back(p);
  }
  EXPECT_EQ(slab.slabs(), 3u);
  for (std::size_t i = 1; i < slots.size(); ++i) {  // slots of one slab lie in its 64 KiB
    const auto a = reinterpret_cast<std::uintptr_t>(slots[i - 1]) / SlotSlab::kSlabBytes;
    const auto b = reinterpret_cast<std::uintptr_t>(slots[i]) / SlotSlab::kSlabBytes;
    if (i % perSlab != 0) EXPECT_EQ(a, b) << i;
  }
  // The first slab emptied is kept; the next ones are unmapped.
  for (std::size_t i = 0; i < perSlab; ++i) SlotSlab::give(slots[i]);
  EXPECT_EQ(slab.slabs(), 3u);
  for (std::size_t i = perSlab; i < 3 * perSlab; ++i) SlotSlab::give(slots[i]);
  EXPECT_EQ(slab.slabs(), 1u);
  // The kept slab serves the next ones without a new mapping.
  void* again = slab.take();
  EXPECT_EQ(slab.slabs(), 1u);
  SlotSlab::give(again);
}

TEST(SlotSlab, ASlotGivenBackIsReusedAndAPartialSlabServesFirst) {
  SlotSlab slab(200);
  void* a = slab.take();
  void* b = slab.take();
  SlotSlab::give(a);
  EXPECT_EQ(slab.take(), a);
  SlotSlab::give(a);
  SlotSlab::give(b);
  EXPECT_EQ(slab.slabs(), 1u);
}

namespace {
struct Tracked {
  explicit Tracked(int& alive) : alive_(alive) { ++alive_; }
  ~Tracked() { --alive_; }
  int& alive_;
  char payload[1000];
};
}  // namespace

// As the worker makes its sessions: the object and its control block in one
// slot, given back when the last reference goes, on whichever thread.
TEST(SlotSlab, AllocateSharedPutsObjectAndCountsInOneSlot) {
  constexpr std::size_t kSlot = sizeof(Tracked) + 32;
  SlotSlab slab(kSlot);
  int alive = 0;
  std::vector<std::shared_ptr<Tracked>> held;
  for (int i = 0; i < 200; ++i) held.push_back(std::allocate_shared<Tracked>(SlabAllocator<Tracked, kSlot>(slab), alive));
  EXPECT_EQ(alive, 200);
  const auto mapped = slab.slabs();
  EXPECT_EQ(mapped, (200 + slab.slotsPerSlab() - 1) / slab.slotsPerSlab());
  std::weak_ptr<Tracked> watch = held.back();
  std::thread other([moved = std::move(held)]() mutable { moved.clear(); });  // the last references go elsewhere
  other.join();
  EXPECT_EQ(alive, 0);
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(slab.slabs(), 2u) << "a weak reference keeps its control block, and so its slot";
  watch.reset();
  EXPECT_EQ(slab.slabs(), 1u);  // the kept one
}
