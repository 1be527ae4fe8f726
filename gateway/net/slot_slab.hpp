#pragma once
// Memory for many objects of one size (a worker's sessions), in slabs of
// 64 KiB mapped for them, so that it goes back to the kernel as soon as a
// slab's objects are all gone.
//
// Why: after a burst of streams, the freed sessions (1.4 KB each) lay in the
// allocator's arena between Asio's descriptor states, which Asio keeps for
// reuse: hardly a page of theirs was whole, so neither free() nor
// malloc_trim() could give any back, and the burst's memory stayed resident.
// A slab holds sessions only; the last one to go unmaps it (one empty slab is
// kept, pages and all, so that a connection count moving around a slab's edge
// does not map and unmap on every connection). A new slab's slots are handed
// out in order, so its pages are touched only as sessions need them.
//
// take() and give() lock the slab set's own mutex: a session is normally
// made and destroyed on its worker's thread, but at shutdown the last ones go
// from the thread that destroys the worker's io_context. One lock per
// connection opened or closed, never per request.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>

namespace infergate {

class SlotSlab {
 public:
  static constexpr std::size_t kSlabBytes = 64 * 1024;

  explicit SlotSlab(std::size_t slotBytes);
  ~SlotSlab();  // unmaps every slab: all slots must have been given back
  SlotSlab(const SlotSlab&) = delete;
  SlotSlab& operator=(const SlotSlab&) = delete;

  std::size_t slotBytes() const { return slotBytes_; }
  std::size_t slotsPerSlab() const { return slotsPerSlab_; }
  void* take();                  // throws std::bad_alloc when no slab can be mapped
  static void give(void* slot);  // to the set whose slab holds it
  std::size_t slabs() const;     // mapped now, the kept empty one included

 private:
  struct Slab;
  Slab* mapSlab();
  void unlink(Slab* s);
  void pushPartial(Slab* s);

  const std::size_t slotBytes_;
  const std::size_t slotsPerSlab_;
  mutable std::mutex mutex_;
  Slab* partial_ = nullptr;  // slabs with a free slot
  Slab* spare_ = nullptr;    // one empty slab, kept
  std::size_t slabs_ = 0;
};

// An allocator for std::allocate_shared over a SlotSlab: the object and its
// control block in one slot. `SlotBytes` must hold the control block (checked
// when it is known, at compile time).
template <class T, std::size_t SlotBytes>
struct SlabAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = SlabAllocator<U, SlotBytes>;
  };
  explicit SlabAllocator(SlotSlab& slab) : slab(&slab) {}
  template <class U>
  SlabAllocator(const SlabAllocator<U, SlotBytes>& other) : slab(other.slab) {}
  T* allocate(std::size_t n) {
    static_assert(sizeof(T) <= SlotBytes, "the slot must hold the control block and the object");
    if (n != 1) throw std::bad_alloc();
    return static_cast<T*>(slab->take());
  }
  void deallocate(T* p, std::size_t) { SlotSlab::give(p); }
  template <class U>
  bool operator==(const SlabAllocator<U, SlotBytes>& other) const { return slab == other.slab; }
  SlotSlab* slab;
};

}  // namespace infergate
