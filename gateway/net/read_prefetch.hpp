#pragma once
// The receives a worker's epoll wait announces, made together in one
// io_uring_enter() (uring_batch.hpp) right after the wait returns, before
// the reactor performs them one recv() at a time.
//
// Why: a proxied request makes two receives (the client's request, the model
// server's answer) and on this VM entering the kernel costs more than a small
// receive itself (uring_batch.hpp has the numbers). Both wait for an event
// (socket_read.hpp: a drained socket is not read before its event), and a
// loaded worker's wait reports several such sockets at once.
//
// The same for watches that take their events (readiness_watch.hpp: a
// stream's upstream between events, watched rather than read): the watch
// hands the wait's such sockets to readForWatches, which reads them in one
// ring and gives each watcher its bytes before its notice runs.
//
// What: after epoll_wait() returns (the wrapper in epoll_wait_hook.cpp), each
// reported socket whose first waiting read is a ReadyBuffer read (the reads
// of a new message and a stream's next event, socket_read.hpp) is read into
// its share of a landing area (kLandingBytes, at most kAheadBytes each), and
// at once copied into its target's free room, a block the size of what came
// (as the reactor's own read would); the result is the op's
// (DrainAwareRecvOp::tookAhead), and when the reactor performs the op it
// makes no system call. A message longer than its share is read on by the
// next read. With fewer than two such sockets nothing is read ahead: a lone
// recv() costs less than a ring of one.
//
// Why not land in the targets directly: each read would then take a block of
// its whole share (4 KiB) for a stream event of a hundred bytes, and the
// worker's BlockCache keeps what a burst took (+1.5 MB peak RSS at 8,000
// streams, measured).
//
// Why it cannot lose bytes: the bytes are in the read's own buffer and their
// count is the op's before any handler of the batch runs. A read cancelled
// meanwhile (a deadline, a pipelined request taken back) completes with
// operation_aborted and that count, which its handler commits; a socket
// closed meanwhile loses only what its close would have dropped anyway.
//
// Bound to Boost 1.81's epoll reactor, like socket_read.hpp: the events'
// descriptor states and their read queues are reached by name
// (asio_private.hpp).
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "gateway/net/reactor_events.hpp"
#include "gateway/net/thread_current.hpp"
#include "gateway/net/uring_batch.hpp"

namespace infergate {

class ReadyWatcher;

class ReadPrefetch : public ThreadCurrent<ReadPrefetch> {
 public:
  struct Counts {
    std::uint64_t rings = 0;  // io_uring_enter() calls made for reads ahead
    std::uint64_t reads = 0;  // reads made ahead
  };

  static constexpr std::size_t kLandingBytes = 64 * 1024;
  static constexpr std::size_t kAheadBytes = 4096;  // a head, a small answer or a stream's event

  // For the reactor of `io`, whose run() must happen on the calling thread.
  explicit ReadPrefetch(boost::asio::io_context& io);
  ReadPrefetch(const ReadPrefetch&) = delete;
  ReadPrefetch& operator=(const ReadPrefetch&) = delete;

  // Makes the ring; false (errno set) when the kernel refuses io_uring.
  bool open() { return ring_.open(); }

  // current(): the calling thread's prefetch while an Installed lives on it
  // (ThreadCurrent); null on other threads.

  // The wait on `epollFd` returned these events: read ahead for the ones
  // that qualify (see above). Does nothing for another epoll descriptor.
  void afterWait(int epollFd, const epoll_event* events, int count) noexcept;

  // Reads for watches that take their events (readiness_watch.hpp: a
  // stream's upstream between events), as afterWait does for pending reads:
  // one ring, each into its share of the landing area, handed to its watcher
  // (tookAhead) at once. Called by the watch while the wait returns.
  struct WatchRead {
    int fd;
    std::size_t limit;
    ReadyWatcher* watcher;
  };
  void readForWatches(std::span<const WatchRead> reads) noexcept;

  const Counts& counts() const { return counts_; }

 private:
  std::unique_ptr<char[]> landing_;  // kLandingBytes
  ReactorEvents reactor_;
  UringBatch ring_;
  Counts counts_;
};

}  // namespace infergate
