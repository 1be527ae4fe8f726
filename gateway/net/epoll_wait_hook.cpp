// The process's epoll_wait(): where a worker's batched sends leave and its
// batched receives are made (send_batch.hpp, read_prefetch.hpp).
//
// Asio's reactor calls epoll_wait() each time it looks for ready sockets,
// after the handlers of the last look have run: the moment the sends they
// queued are all known, and the last moment before the worker may sleep. And
// when the wait returns, the events it reports are the sockets the reactor is
// about to read, one recv() each, before it runs any of their handlers. This
// definition takes the place of libc's for the whole process (the
// executable's symbol comes first); on a thread with neither it is the plain
// system call.
//
// After a flush the wait does not block: the completions it ran may have
// queued handlers (Asio keeps an inline completion in the thread's private
// queue, which it runs only after this wait returns).
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <boost/version.hpp>
#include <cerrno>
#include <span>

#include "gateway/net/read_prefetch.hpp"
#include "gateway/net/send_batch.hpp"

static_assert(BOOST_VERSION / 100 == 1081,
              "Boost.Asio's epoll reactor must still wait through epoll_wait(): check before upgrading Boost");

namespace {

int waitFor(int epfd, epoll_event* events, int maxevents, int timeout) {
#ifdef SYS_epoll_wait
  return static_cast<int>(::syscall(SYS_epoll_wait, epfd, events, maxevents, timeout));
#else  // architectures with epoll_pwait only (arm64): the same call without a signal mask
  return static_cast<int>(::syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, nullptr, 0));
#endif
}

}  // namespace

extern "C" int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
  infergate::ReadPrefetch* prefetch = infergate::ReadPrefetch::current();
  if (infergate::SendBatch* batch = infergate::SendBatch::current(); batch != nullptr && !batch->empty()) {
    if (prefetch != nullptr && prefetch->watches(epfd) && batch->ringUsable()) {
      // Sends wait and this is the worker's reactor: look first (without
      // blocking, as after any flush), then make the sends and the reads the
      // wait announced in one io_uring_enter() instead of one each. The
      // reads' results are their ops' before any send's completion runs.
      const int n = waitFor(epfd, events, maxevents, 0);
      std::array<infergate::UringBatch::Op, infergate::SendBatch::kMaxSends> reads;
      std::array<int, infergate::SendBatch::kMaxSends> results;
      const std::size_t room = infergate::SendBatch::kMaxSends - batch->queuedSends();
      const std::size_t found = n > 0 ? prefetch->collect(events, n, std::span(reads.data(), room)) : 0;
      const infergate::SendBatch::Receives receives{std::span(reads.data(), found), std::span(results.data(), found),
                                                    &infergate::ReadPrefetch::landedWithSends, prefetch};
      const int waitErrno = errno;  // what a failed wait said, not what the flush's calls leave
      batch->flush(found > 0 ? &receives : nullptr);
      errno = waitErrno;
      return n;
    }
    batch->flush();
    timeout = 0;
  }
  const int n = waitFor(epfd, events, maxevents, timeout);
  if (n > 1 && prefetch != nullptr) prefetch->afterWait(epfd, events, n);
  return n;
}
