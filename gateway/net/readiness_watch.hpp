#pragma once
// Sockets a worker watches for "something to read" without a read pending:
// the epoll wait's own events say when, and the watcher is told through the
// io_context.
//
// Why: while its answer is relayed, a client connection is watched, so that a
// client that leaves is seen at once and its model server's work is stopped;
// and a stream's upstream connection waits seconds for each next event. As
// Asio reads that wait, each was an operation on the heap for every open
// stream (about 150 and 176 bytes with their handlers, heaptrack) that
// completes only when the client leaves or the model's next token comes.
// Here a watch is one pointer in a table indexed by descriptor, which only
// the pages holding watched descriptors make resident.
//
// How: the wrapper of epoll_wait() (epoll_wait_hook.cpp) hands each wait's
// events to the calling thread's watch (current()). An event that reports
// bytes, an end-of-file, a reset or an error on a watched descriptor ends its
// watch (one notice per watch) and posts the watcher's onSocketReady() to
// the worker's io_context, with the watcher kept alive until it runs. The
// watcher then reads the socket itself. The reactor's registration is
// edge-triggered, so what arrived before the watch began raises no event:
// the watcher reads once (MSG_DONTWAIT) before it watches.
//
// Bound to Boost 1.81's epoll reactor, like read_prefetch.hpp: the event's
// descriptor is read from the reactor's descriptor state (reactor_events.hpp).
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "gateway/net/reactor_events.hpp"
#include "gateway/net/thread_current.hpp"

namespace infergate {

class ReadyWatcher {
 public:
  // The watched socket may be read: bytes, an end-of-file or an error (or,
  // rarely, nothing after all). The watch has ended; the watcher watches
  // again if it wants to.
  virtual void onSocketReady() = 0;
  // Held by the notice between the event and onSocketReady().
  virtual std::shared_ptr<void> keepAlive() = 0;
  // A watcher whose watch takes its events (Event::Taken) and reads the
  // socket itself may have that read made as the wait returns, together with
  // the wait's other such reads (one io_uring_enter, read_prefetch.hpp): the
  // most it takes; 0 (the default), it makes its own recv().
  virtual std::size_t readAheadLimit() const { return 0; }
  // That read, before its notice runs: `result` bytes landed at `landed`
  // (copy them out now: the area is the next wait's) out of `size` asked,
  // 0 for an end-of-file, or -errno.
  virtual void tookAhead(const char* /*landed*/, std::size_t /*size*/, int /*result*/) noexcept {}

 protected:
  ~ReadyWatcher() = default;
};

class ReadinessWatch : public ThreadCurrent<ReadinessWatch> {
 public:
  // Attached later (attach): an owner's watch may have to outlive its
  // io_context, whose destruction ends the watchers its handlers hold.
  ReadinessWatch() = default;
  explicit ReadinessWatch(boost::asio::io_context& io) { attach(io); }
  ReadinessWatch(const ReadinessWatch&) = delete;
  ReadinessWatch& operator=(const ReadinessWatch&) = delete;
  // For the reactor of `io`, whose run() happens on the thread the watch is installed on.
  void attach(boost::asio::io_context& io);

  // What the reactor sees of a watched socket's event.
  enum class Event : std::uint8_t {
    Shared,  // the reactor sees it too (its next read of the socket tries at once)
    // The watch takes the readable part (EPOLLIN) away from the reactor, whose
    // mark for the socket's reads stays what the watcher sets
    // (peer_close_events.hpp: markDrained): a watcher that reads the socket
    // itself and then marks it knows better than the event, which the reactor
    // may handle after the watcher's read. End-of-file, reset and error bits
    // stay.
    Taken,
  };

  // Watches `fd`, a socket of this worker's reactor; false when it cannot
  // (a descriptor beyond the table: the caller keeps a read pending instead).
  bool watch(int fd, ReadyWatcher& watcher, Event event = Event::Shared);
  // Ends `watcher`'s watch on `fd`: true when it was watching; false when it
  // was not, or its notice is already posted (onSocketReady will run). A
  // descriptor watched by another (its number reused) is left alone.
  bool unwatch(int fd, const ReadyWatcher& watcher);
  std::size_t watching() const { return watching_; }

  // The wait on `epollFd` returned these events: post the notices they call
  // for. Does nothing for another epoll descriptor or while nothing is watched.
  // May clear EPOLLIN in the events of watches that take it (Event::Taken).
  // Every socket's readable event, watched or not, sets its read mark at once
  // (ReactorEvents::noteReadable): a watch begun later in this round must
  // not take a socket this wait found readable for drained.
  void afterWait(int epollFd, epoll_event* events, int count) noexcept;

  // current(): the calling thread's watch while an Installed lives on it
  // (ThreadCurrent); null on other threads.

 private:
  boost::asio::io_context* io_ = nullptr;
  ReactorEvents reactor_;
  std::size_t watching_ = 0;
};

}  // namespace infergate
