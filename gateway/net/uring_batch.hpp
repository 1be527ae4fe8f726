#pragma once
// Several sends or receives, each on its own socket, made by the kernel in
// one io_uring_enter() instead of one system call each.
//
// Why: on this class of VM (page-table isolation, no PCID) entering the
// kernel is the expensive part of a small send or receive. Measured with
// 300-byte sends on loopback (/tmp microbenchmark, taskset -c 1): send()
// 3.1-3.2 us each; through one io_uring_enter, 2.5 us each for 2, 1.9 for 4,
// 1.6 for 8, 1.5 for 16; a single send costs more that way (3.6 us), so
// callers make a lone one with its plain system call. recv() has the same
// shape: 3.1-3.3 us alone; 2.53, 1.91 and 1.51 us each for 2, 4 and 8. The
// raw system calls are used (no liburing): setup, the two ring mappings and
// the SEND and RECV opcodes are all this needs.
//
// Every operation carries MSG_DONTWAIT: io_uring then answers -EAGAIN, as
// send() and recv() would, instead of waiting for room or for bytes, so
// every result is known when the call returns and nothing stays in flight in
// the kernel.
#include <cstddef>
#include <cstdint>
#include <span>

namespace infergate {

class UringBatch {
 public:
  struct Op {
    int fd;
    void* data;  // read from by a send, written to by a receive
    std::uint32_t size;
  };
  static constexpr unsigned kMaxBatch = 64;

  UringBatch() = default;
  UringBatch(const UringBatch&) = delete;
  UringBatch& operator=(const UringBatch&) = delete;
  ~UringBatch();

  // Makes the ring for the calling thread (it must be the only one that
  // uses it). False with errno set when the kernel refuses it: no io_uring,
  // a seccomp filter (Docker's default profile), or kernel.io_uring_disabled.
  bool open();
  // False once the kernel refused an io_uring_enter(): its callers go one by one.
  bool usable() const { return fd_ >= 0 && !broken_; }

  // Sends each buffer on its socket (at most kMaxBatch); results[i] is the
  // bytes the kernel took or -errno (-EAGAIN: the socket had no room).
  void send(std::span<const Op> sends, std::span<int> results);
  // Receives into each buffer from its socket (at most kMaxBatch);
  // results[i] is the bytes received (0: end-of-file) or -errno (-EAGAIN:
  // nothing there).
  void recv(std::span<const Op> receives, std::span<int> results);

 private:
  void run(std::uint8_t opcode, std::span<const Op> ops, std::span<int> results);

  int fd_ = -1;
  bool broken_ = false;
  void* ring_ = nullptr;
  std::size_t ringBytes_ = 0;
  void* sqes_ = nullptr;
  std::size_t sqeBytes_ = 0;
  // Pointers into the shared rings (set by open()).
  unsigned* sqTail_ = nullptr;
  unsigned sqMask_ = 0;
  unsigned* sqArray_ = nullptr;
  unsigned* cqHead_ = nullptr;
  unsigned* cqTail_ = nullptr;
  unsigned cqMask_ = 0;
  void* cqes_ = nullptr;
};

}  // namespace infergate
