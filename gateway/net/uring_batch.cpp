#include "gateway/net/uring_batch.hpp"

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace infergate {
namespace {

int setup(unsigned entries, io_uring_params& params) {
  return static_cast<int>(::syscall(__NR_io_uring_setup, entries, &params));
}

int enter(int fd, unsigned toSubmit, unsigned minComplete, unsigned flags) {
  return static_cast<int>(::syscall(__NR_io_uring_enter, fd, toSubmit, minComplete, flags, nullptr, 0));
}

template <class T>
T* at(void* base, std::uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
constexpr int kRecvFlags = MSG_DONTWAIT;

// One operation by its plain system call: for what the ring did not take.
int oneByOne(std::uint8_t opcode, const UringBatch::Op& op) {
  ssize_t n;
  do n = opcode == IORING_OP_SEND ? ::send(op.fd, op.data, op.size, kSendFlags) : ::recv(op.fd, op.data, op.size, kRecvFlags);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? static_cast<int>(n) : -errno;
}

}  // namespace

UringBatch::~UringBatch() {
  if (sqes_ != nullptr) ::munmap(sqes_, sqeBytes_);
  if (ring_ != nullptr) ::munmap(ring_, ringBytes_);
  if (fd_ >= 0) ::close(fd_);
}

bool UringBatch::open() {
  io_uring_params params{};
  // One thread submits, and nothing completes later (every operation is
  // non-blocking): the cheapest task-run mode. Older kernels lack these
  // flags and get a plain ring.
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int fd = setup(kMaxBatch, params);
  if (fd < 0 && errno == EINVAL) {
    params = io_uring_params{};
    fd = setup(kMaxBatch, params);
  }
  if (fd < 0) return false;
  if (!(params.features & IORING_FEAT_SINGLE_MMAP)) {  // before 5.4: not worth a second layout
    ::close(fd);
    errno = ENOSYS;
    return false;
  }
  const std::size_t sqBytes = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  const std::size_t cqBytes = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  ringBytes_ = std::max(sqBytes, cqBytes);
  void* ring = ::mmap(nullptr, ringBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (ring == MAP_FAILED) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return false;
  }
  sqeBytes_ = params.sq_entries * sizeof(io_uring_sqe);
  void* sqes = ::mmap(nullptr, sqeBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    const int e = errno;
    ::munmap(ring, ringBytes_);
    ::close(fd);
    errno = e;
    return false;
  }
  fd_ = fd;
  ring_ = ring;
  sqes_ = sqes;
  sqTail_ = at<unsigned>(ring, params.sq_off.tail);
  sqMask_ = *at<unsigned>(ring, params.sq_off.ring_mask);
  sqArray_ = at<unsigned>(ring, params.sq_off.array);
  cqHead_ = at<unsigned>(ring, params.cq_off.head);
  cqTail_ = at<unsigned>(ring, params.cq_off.tail);
  cqMask_ = *at<unsigned>(ring, params.cq_off.ring_mask);
  cqes_ = at<io_uring_cqe>(ring, params.cq_off.cqes);
  return true;
}

void UringBatch::send(std::span<const Op> sends, std::span<int> results) { run(IORING_OP_SEND, sends, results); }

void UringBatch::recv(std::span<const Op> receives, std::span<int> results) { run(IORING_OP_RECV, receives, results); }

void UringBatch::run(std::uint8_t opcode, std::span<const Op> ops, std::span<int> results) {
  const auto n = static_cast<unsigned>(std::min<std::size_t>(ops.size(), kMaxBatch));
  auto* sqes = static_cast<io_uring_sqe*>(sqes_);
  const unsigned tail = *sqTail_;  // only this thread writes it
  for (unsigned i = 0; i < n; ++i) {
    const unsigned slot = (tail + i) & sqMask_;
    io_uring_sqe& sqe = sqes[slot];
    std::memset(&sqe, 0, sizeof sqe);
    sqe.opcode = opcode;
    sqe.fd = ops[i].fd;
    sqe.addr = reinterpret_cast<std::uintptr_t>(ops[i].data);
    sqe.len = ops[i].size;
    sqe.msg_flags = opcode == IORING_OP_SEND ? kSendFlags : kRecvFlags;
    sqe.user_data = i;
    sqArray_[slot] = slot;
    results[i] = -ECANCELED;  // until its completion says otherwise
  }
  __atomic_store_n(sqTail_, tail + n, __ATOMIC_RELEASE);

  // Submitted in order: the first `submitted` entries are the kernel's.
  unsigned submitted = 0;
  while (submitted < n) {
    const int r = enter(fd_, n - submitted, 0, 0);
    if (r > 0) submitted += static_cast<unsigned>(r);
    else if (r < 0 && errno == EINTR) continue;
    else {
      // The ring is unusable (the rest of its entries stay unsubmitted in
      // it): no further batch goes through it, and the rest is made below.
      broken_ = true;
      break;
    }
  }
  // Non-blocking operations complete while they are submitted; if the kernel has
  // not posted them all yet, wait for the rest (it will, at once).
  auto* cqes = static_cast<io_uring_cqe*>(cqes_);
  unsigned reaped = 0;
  for (;;) {
    unsigned head = *cqHead_;
    const unsigned cqTail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
    for (; head != cqTail; ++head, ++reaped) {
      const io_uring_cqe& cqe = cqes[head & cqMask_];
      if (cqe.user_data < n) results[cqe.user_data] = cqe.res;
    }
    __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
    if (reaped >= submitted) break;
    if (enter(fd_, 0, submitted - reaped, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR) {
      broken_ = true;  // what was submitted and not reported stays -ECANCELED: an error to its caller
      break;
    }
  }
  // What the ring did not take is made here, one by one.
  for (unsigned i = submitted; i < n; ++i) results[i] = oneByOne(opcode, ops[i]);
}

}  // namespace infergate
