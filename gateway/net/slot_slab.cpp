#include "gateway/net/slot_slab.hpp"

#include <sys/mman.h>

#include <cassert>
#include <cstring>
#include <utility>

namespace infergate {

// At a slab's start; its slots follow.
struct SlotSlab::Slab {
  SlotSlab* owner;
  Slab* prev;
  Slab* next;
  void* free;           // slots given back, linked through their first bytes
  std::uint32_t used;   // slots handed out now
  std::uint32_t fresh;  // slots never handed out start here
};

namespace {
constexpr std::size_t kHeaderBytes = 64;  // the header, rounded to a cache line
constexpr std::size_t kSlotAlign = 16;

std::size_t roundedSlot(std::size_t bytes) {
  const std::size_t b = bytes < sizeof(void*) ? sizeof(void*) : bytes;
  return (b + kSlotAlign - 1) / kSlotAlign * kSlotAlign;
}
}  // namespace

SlotSlab::SlotSlab(std::size_t slotBytes)
    : slotBytes_(roundedSlot(slotBytes)), slotsPerSlab_((kSlabBytes - kHeaderBytes) / slotBytes_) {
  static_assert(sizeof(Slab) <= kHeaderBytes);
  if (slotsPerSlab_ == 0) throw std::bad_alloc();
}

SlotSlab::~SlotSlab() {
  // Every slot is back: the worker's sessions end with its io_context, before
  // its slabs go (the slab set is the worker's first member). What is left is
  // the kept empty slab.
  while (partial_ != nullptr) {
    Slab* s = partial_;
    partial_ = s->next;
    ::munmap(s, kSlabBytes);
  }
  if (spare_ != nullptr) ::munmap(spare_, kSlabBytes);
}

SlotSlab::Slab* SlotSlab::mapSlab() {
  // Twice the size, then the unaligned ends unmapped: a slot finds its slab
  // by rounding its address down.
  void* raw = ::mmap(nullptr, 2 * kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = (start + kSlabBytes - 1) & ~(std::uintptr_t{kSlabBytes} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const auto end = start + 2 * kSlabBytes;
  if (end > aligned + kSlabBytes) ::munmap(reinterpret_cast<void*>(aligned + kSlabBytes), end - (aligned + kSlabBytes));
  auto* s = reinterpret_cast<Slab*>(aligned);
  *s = Slab{this, nullptr, nullptr, nullptr, 0, 0};
  ++slabs_;
  return s;
}

void SlotSlab::unlink(Slab* s) {
  if (s->prev != nullptr) s->prev->next = s->next;
  else partial_ = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
}

void SlotSlab::pushPartial(Slab* s) {
  s->prev = nullptr;
  s->next = partial_;
  if (partial_ != nullptr) partial_->prev = s;
  partial_ = s;
}

void* SlotSlab::take() {
  std::lock_guard lock(mutex_);
  if (partial_ == nullptr) {
    Slab* s = spare_ != nullptr ? std::exchange(spare_, nullptr) : mapSlab();
    pushPartial(s);
  }
  Slab* s = partial_;
  void* slot;
  if (s->free != nullptr) {
    slot = s->free;
    std::memcpy(&s->free, slot, sizeof(void*));
  } else {
    slot = reinterpret_cast<char*>(s) + kHeaderBytes + std::size_t{s->fresh} * slotBytes_;
    ++s->fresh;
  }
  if (++s->used == slotsPerSlab_) unlink(s);  // full
  return slot;
}

void SlotSlab::give(void* slot) {
  if (slot == nullptr) return;
  auto* s = reinterpret_cast<Slab*>(reinterpret_cast<std::uintptr_t>(slot) & ~(std::uintptr_t{kSlabBytes} - 1));
  SlotSlab& set = *s->owner;
  std::lock_guard lock(set.mutex_);
  assert(s->used > 0);
  const bool wasFull = s->used == set.slotsPerSlab_;
  std::memcpy(slot, &s->free, sizeof(void*));
  s->free = slot;
  --s->used;
  if (s->used == 0) {
    if (!wasFull) set.unlink(s);
    if (set.spare_ == nullptr) {
      // Kept as it is, pages and all: the next connection takes it at no cost.
      *s = Slab{&set, nullptr, nullptr, nullptr, 0, 0};
      set.spare_ = s;
    } else {
      ::munmap(s, kSlabBytes);
      --set.slabs_;
    }
    return;
  }
  if (wasFull) set.pushPartial(s);
}

std::size_t SlotSlab::slabs() const {
  std::lock_guard lock(mutex_);
  return slabs_;
}

}  // namespace infergate
