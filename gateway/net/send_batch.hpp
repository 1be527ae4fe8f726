#pragma once
// The sends a worker's handlers ask for while it runs the handlers that are
// ready, made together once they have all run, in one io_uring_enter()
// (uring_batch.hpp) instead of one send() each. The flush happens just before
// the thread's next epoll_wait() (the wrapper in epoll_wait_hook.cpp):
// Asio's reactor waits again only once those handlers have run.
//
// Why: a proxied request makes two sends (the request upstream, the answer to
// the client), and on this VM entering the kernel costs more than the send
// itself (uring_batch.hpp has the numbers). A loaded worker finds several
// sockets ready at each poll, so their sends share one entry into the kernel.
// A lone send is made with send(), which costs less than a ring of one.
//
// What this changes for a writer: its send leaves when the worker's current
// handlers have run, microseconds later, not inside its handler; its
// completion runs from flush(). Bytes the socket had no room for are left to
// the writer (GatheredWrite hands them to Asio).
//
// A socket closed while its send is queued must say so (forgetQueuedSend)
// before the descriptor is closed: the number may be reused at once by a new
// connection, which must never receive another's bytes. The send is then not
// made, and its completion runs with `forgotten` (operation_aborted to the
// writer, as Asio reports a write cut by a close).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "gateway/net/thread_current.hpp"
#include "gateway/net/uring_batch.hpp"

namespace infergate {

class SendBatch : public ThreadCurrent<SendBatch> {
 public:
  static constexpr std::size_t kMaxSends = UringBatch::kMaxBatch;
  static constexpr std::size_t kCopyBytes = 64 * 1024;  // joined pieces held until their send is made
  static constexpr std::size_t kCompletionBytes = 96;   // a writer's completion, held in place
  static constexpr unsigned kMaxRounds = 16;            // flush() rounds of completions that send again
  // A piece larger than this is sent from its handler: the system call is a
  // small part of its cost, and a ring's result is an int.
  static constexpr std::size_t kMaxSendBytes = 1024 * 1024;

  struct Outcome {
    const char* data;
    std::size_t size;
    std::size_t sent = 0;  // bytes the kernel took
    int error = 0;         // errno of a failed send (EAGAIN: no room at all)
    bool forgotten = false;  // its socket closed first: not sent
    bool batchCopy = false;  // `data` is the batch's (reserve()): gone once the completions have run
  };

  SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  // Completions still queued are destroyed without running (as Asio does
  // with the handlers of a destroyed io_context).
  ~SendBatch();

  // Makes the ring for the calling thread; false (errno set) when the kernel
  // refuses io_uring. A batch that is not open still works, one send() each.
  bool open() { return ring_.open(); }

  // current(): the calling thread's batch while an Installed lives on it
  // (ThreadCurrent); null on other threads (their writers send at once).

  bool hasRoom() const { return queued().count < kMaxSends; }
  // Room for `bytes` bytes (with room for a send): valid until that send's
  // completion has run. Null when there is none: the caller sends at once.
  char* reserve(std::size_t bytes);
  // Queues `size` bytes at `data` for `fd`; `complete(const Outcome&)` runs
  // from flush(). Only after hasRoom() or reserve() said there is room.
  template <class Complete>
  void add(int fd, const char* data, std::size_t size, Complete&& complete);

  bool empty() const { return queued().count == 0; }
  // Makes the queued sends and runs their completions. Completions that
  // send again are flushed too, up to kMaxRounds rounds; what they queue
  // after that waits for the next call (the caller must not sleep first).
  void flush();
  // `fd` is about to be closed: a send queued for it is not made (and one
  // made but not yet completed reports `forgotten`).
  void forget(int fd);

 private:
  struct Entry {
    int fd;
    bool forgotten;
    const char* data;
    std::size_t size;
    void (*run)(void* completion, const Outcome& outcome);  // runs it, then destroys it
    void (*destroy)(void* completion);
    alignas(std::max_align_t) unsigned char completion[kCompletionBytes];
  };
  struct Generation {
    std::array<Entry, kMaxSends> entries;
    std::size_t count = 0;
    std::unique_ptr<char[]> copies;
    std::size_t copied = 0;
  };
  Generation& queued() { return generations_[queuedIndex_]; }
  const Generation& queued() const { return generations_[queuedIndex_]; }
  void send(Generation& g);
  static void destroyAll(Generation& g, std::size_t from);

  Generation generations_[2];
  unsigned queuedIndex_ = 0;
  Generation* running_ = nullptr;  // the generation whose completions flush() runs
  std::size_t runningAt_ = 0;      // the entry whose completion runs now
  std::array<int, kMaxSends> results_{};
  UringBatch ring_;
};

// Before a socket's descriptor is closed: see SendBatch::forget.
inline void forgetQueuedSend(int fd) {
  if (fd < 0) return;
  if (SendBatch* batch = SendBatch::current()) batch->forget(fd);
}

template <class Complete>
void SendBatch::add(int fd, const char* data, std::size_t size, Complete&& complete) {
  using Stored = std::decay_t<Complete>;
  static_assert(sizeof(Stored) <= kCompletionBytes, "a writer's completion must fit in the batch entry");
  static_assert(alignof(Stored) <= alignof(std::max_align_t));
  Generation& g = queued();
  Entry& e = g.entries[g.count++];
  e.fd = fd;
  e.forgotten = false;
  e.data = data;
  e.size = size;
  ::new (static_cast<void*>(e.completion)) Stored(std::forward<Complete>(complete));
  e.run = [](void* p, const Outcome& outcome) {
    Stored c(std::move(*static_cast<Stored*>(p)));
    static_cast<Stored*>(p)->~Stored();
    c(outcome);
  };
  e.destroy = [](void* p) { static_cast<Stored*>(p)->~Stored(); };
}

}  // namespace infergate
