#pragma once
// A per-thread cache of memory blocks, and a stateless allocator over it.
//
// Why: Beast's basic_fields allocates one node per header field, plus the
// target and reason strings, for every message it parses, and frees them when
// the parser goes: about eight malloc/free pairs per proxied request, 2% of a
// worker's time under load (perf, chat_small). Workers parse on one thread, so
// a free list per thread and size class gives those blocks back without
// touching malloc or any lock. The relay's body buffers come from here too
// (CachedBlock, sized to the piece being relayed, 32 KiB at most), held only
// while a piece is relayed: an idle connection holds none, and the few
// buffers in rotation stay in cache.
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
  static constexpr std::size_t kClasses = 10;  // 64, 128, ... 32768 bytes
  static constexpr std::size_t kLargest = kSmallest << (kClasses - 1);
  // Blocks kept per class and thread: 256 KiB worth, and never fewer than 128.
  // The floor is for the large classes: a worker holds a 32 KiB relay buffer
  // for every answer it is relaying (every stream), and the count swings with
  // traffic; a keep of 8 sent the rest through malloc, which trimmed and
  // regrew its heap (madvise, then page faults) 0.3 times per request at 32
  // clients. Bound: 9 MiB per thread over all classes, kept only after a
  // burst that used it.
  static constexpr std::size_t kKeepBytes = 256 * 1024;
  static constexpr std::size_t kMinKeptBlocks = 128;
  static constexpr std::size_t keptBlocks(std::size_t classBytes) {
    return kKeepBytes / classBytes > kMinKeptBlocks ? kKeepBytes / classBytes : kMinKeptBlocks;
  }

  static BlockCache& local() {
    thread_local BlockCache cache;
    return cache;
  }

  void* take(std::size_t bytes);
  void give(void* block, std::size_t bytes) noexcept;
  // What a block taken for `bytes` holds: its size class (`bytes` itself past
  // the largest class).
  static std::size_t blockBytes(std::size_t bytes);
  // Blocks of the class of `bytes` waiting in this cache.
  std::size_t cached(std::size_t bytes) const;

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

// Owns one block from a BlockCache whose size is chosen when it is taken, so
// an owner can hold a small block for a small piece and a large one for a
// large piece; gives it back to the cache of the thread that releases it.
class CachedBlock {
 public:
  CachedBlock() = default;
  CachedBlock(const CachedBlock&) = delete;
  CachedBlock& operator=(const CachedBlock&) = delete;
  ~CachedBlock() { reset(); }

  // Gives back the block held, if any, and takes one of at least `bytes`.
  void take(std::size_t bytes) {
    reset();
    capacity_ = BlockCache::blockBytes(bytes);
    data_ = static_cast<char*>(BlockCache::local().take(capacity_));
  }
  void reset() noexcept {
    if (data_ != nullptr) BlockCache::local().give(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }
  char* get() const { return data_; }
  std::size_t capacity() const { return capacity_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  char* data_ = nullptr;
  std::size_t capacity_ = 0;
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
