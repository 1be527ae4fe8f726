#pragma once
// A per-thread cache of small memory blocks, and a stateless allocator over it.
//
// Why: Beast's basic_fields allocates one node per header field, plus the
// target and reason strings, for every message it parses, and frees them when
// the parser goes: about eight malloc/free pairs per proxied request, 2% of a
// worker's time under load (perf, chat_small). Workers parse on one thread, so
// a free list per thread and size class gives those blocks back without
// touching malloc or any lock.
//
// A block freed on another thread than the one it came from simply joins that
// thread's list: blocks are plain operator-new memory, and the size class is
// known from the size the allocator is given back.
#include <cstddef>
#include <new>
#include <type_traits>

namespace infergate {

class BlockCache {
 public:
  static constexpr std::size_t kSmallest = 64;
  static constexpr std::size_t kClasses = 6;  // 64, 128, ... 2048 bytes
  static constexpr std::size_t kLargest = kSmallest << (kClasses - 1);
  // Per class and thread: bounds what a burst can leave cached (at most
  // kKeep x 4 KiB summed over the classes, about 1 MiB per thread).
  static constexpr std::size_t kKeep = 256;

  static BlockCache& local() {
    thread_local BlockCache cache;
    return cache;
  }

  void* take(std::size_t bytes);
  void give(void* block, std::size_t bytes) noexcept;

  BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache();

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  FreeBlock* free_[kClasses] = {};
  std::size_t count_[kClasses] = {};
  // False once this thread's cache is destroyed at thread exit: a block freed
  // later in that exit (by another thread_local's destructor) goes to the heap.
  bool alive_ = true;
};

// Allocator for containers that live and die on one worker thread.
template <class T>
struct CachedAllocator {
  using value_type = T;
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  CachedAllocator() noexcept = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(BlockCache::local().take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { BlockCache::local().give(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const CachedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace infergate
