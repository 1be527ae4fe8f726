#include "filters/core/block_cache.hpp"

#include <bit>

namespace infergate {
namespace {

// 1..64 -> 0, 65..128 -> 1, 129..256 -> 2, ...
std::size_t classOf(std::size_t bytes) {
  return bytes <= BlockCache::kSmallest ? 0 : std::bit_width((bytes - 1) / BlockCache::kSmallest);
}

}  // namespace

void* BlockCache::take(std::size_t bytes) {
  if (bytes > kLargest) return ::operator new(bytes);
  const auto c = classOf(bytes);
  if (auto* block = free_[c]) {
    free_[c] = block->next;
    --count_[c];
    return block;
  }
  return ::operator new(kSmallest << c);
}

void BlockCache::give(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes > kLargest || !alive_) return ::operator delete(block);
  const auto c = classOf(bytes);
  if (count_[c] == keptBlocks(kSmallest << c)) return ::operator delete(block);
  auto* node = static_cast<FreeBlock*>(block);
  node->next = free_[c];
  free_[c] = node;
  ++count_[c];
}

std::size_t BlockCache::blockBytes(std::size_t bytes) { return bytes > kLargest ? bytes : kSmallest << classOf(bytes); }

std::size_t BlockCache::cached(std::size_t bytes) const { return bytes > kLargest ? 0 : count_[classOf(bytes)]; }

BlockCache::~BlockCache() {
  alive_ = false;
  for (auto*& head : free_) {
    while (head != nullptr) {
      auto* next = head->next;
      ::operator delete(head);
      head = next;
    }
  }
}

}  // namespace infergate
