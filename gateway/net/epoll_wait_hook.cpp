// The process's epoll_wait(): where a worker's batched sends leave, its
// batched receives are made and its watched sockets are told they may be read
// (send_batch.hpp, read_prefetch.hpp, readiness_watch.hpp).
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

#include <boost/version.hpp>

#include "gateway/net/read_prefetch.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/send_batch.hpp"

static_assert(BOOST_VERSION / 100 == 1081,
              "Boost.Asio's epoll reactor must still wait through epoll_wait(): check before upgrading Boost");

extern "C" int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
  if (infergate::SendBatch* batch = infergate::SendBatch::current(); batch != nullptr && !batch->empty()) {
    batch->flush();
    timeout = 0;
  }
#ifdef SYS_epoll_wait
  const int n = static_cast<int>(::syscall(SYS_epoll_wait, epfd, events, maxevents, timeout));
#else  // architectures with epoll_pwait only (arm64): the same call without a signal mask
  const int n = static_cast<int>(::syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, nullptr, 0));
#endif
  if (n > 0)
    if (infergate::ReadinessWatch* watch = infergate::ReadinessWatch::current()) watch->afterWait(epfd, events, n);
  if (n > 1)
    if (infergate::ReadPrefetch* prefetch = infergate::ReadPrefetch::current()) prefetch->afterWait(epfd, events, n);
  return n;
}
