#pragma once
// Reads that spend no system call on a socket known to be empty.
//
// Why: Asio's epoll reactor tries every read at once ("speculatively") when
// any event was seen on the socket since the last end-of-file, and it forgets
// that the last read came back short. So on a keep-alive connection the read
// for the next request, started just after a response was sent, is a recv()
// that fails with EAGAIN; so is the read for an upstream answer, started just
// after the request was sent. perf stat on the proxy's core, 32 clients:
// 3.6-4.1 recvfrom per request against haproxy's 2.0; on this VM (no PCID,
// page-table isolation on) each one costs about a microsecond of kernel time.
//
// What: a read through DrainAwareBuffer that comes back short tells the
// reactor the socket is exhausted (the state Asio otherwise keeps for EOF).
// The socket's queue was empty at that moment, so any byte arriving later
// raises a fresh edge-triggered event, which sets the reactor back to trying
// at once; until then, the next read waits for the event without a recv().
//
// The one thing no fresh event announces is an end-of-file that arrived with
// the data of the short read. So only reads for a *new* message trust the mark
// (readNextMessage): there an unseen EOF costs nothing but an idle keep-alive
// connection, closed by its idle timeout, or a pooled connection, whose next
// request meets the peer's reset and is retried like any stale connection.
// Reads in the middle of a message (readMore) always try the socket first, as
// before, so a peer that closes mid-message is seen at once; unless the
// reactor reports the peer's close (the reads' `peerEvents`, upstream
// sockets: see peer_close_events.hpp), in which case a FIN that came with the
// data shows in the events and the short read is trusted only without it.
//
// Bound to Boost 1.81's reactor (the Debian package this project builds
// with): the specialization below replaces reactive_socket_recv_op_base for
// DrainAwareBuffer only; every other read in the process is Asio's own.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>  // before the detail header, which needs it
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "filters/core/block_cache.hpp"
#include "gateway/net/thread_scratch.hpp"
#include <boost/version.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

static_assert(BOOST_VERSION / 100 == 1081, "socket_read.hpp hooks Boost 1.81's epoll reactor: re-check it");

namespace infergate {

// Whether the events the reactor last reported for a socket (null: not
// known, see peer_close_events.hpp) say its peer's FIN has arrived, so that a
// short read did not reach the end of what the socket will give.
inline bool peerCloseReported(const unsigned* events) {
  return events != nullptr && (*events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
}

// A single read buffer whose short reads mark the socket as drained (unless
// the reactor reported the peer's close: `peerEvents`).
struct DrainAwareBuffer : boost::asio::mutable_buffer {
  explicit DrainAwareBuffer(boost::asio::mutable_buffer buffer, const unsigned* peerEvents = nullptr)
      : boost::asio::mutable_buffer(buffer), peerEvents_(peerEvents) {}
  // For DrainAwareRecvOp: the memory to read into, and what to do while the
  // socket is empty (nothing: the caller owns this buffer).
  boost::asio::mutable_buffer take() const { return *this; }
  void idle() const {}
  void received(std::size_t) const {}
  bool peerClosed() const { return peerCloseReported(peerEvents_); }

 private:
  const unsigned* peerEvents_;
};

// A connection's read buffer. Its memory comes from the worker's BlockCache:
// a waiting connection gives it back (releaseIdle) and takes it again when
// bytes arrive, once per request, which must cost a free-list pop, not malloc.
using ReadBuffer = boost::beast::basic_flat_buffer<CachedAllocator<char>>;

// Gives back a read buffer's free room while the connection waits. What is
// left unparsed is usually a few bytes (the CRLF that ends a chunk, parsed
// with the next chunk's size): those move to an allocation of their own.
inline void releaseIdle(ReadBuffer& buffer) {
  if (buffer.size() <= 1024 && buffer.capacity() > buffer.size()) buffer.shrink_to_fit();
}

// Where a read that waited with no buffer of its own (ReadyBuffer,
// readMoreInto) lands: the thread's scratch, at most `size` of it. What
// arrives is copied out at once into a block the size of what arrived.
inline boost::asio::mutable_buffer landingFor(std::size_t size) {
  return {threadScratch(), size < kThreadScratchBytes ? size : kThreadScratchBytes};
}

// Moves `bytes` just received into the thread's scratch to the end of
// `target`'s readable bytes (committed later by the read's completion, as
// Asio's own reads are).
inline void landReceived(ReadBuffer& target, std::size_t bytes) {
  if (bytes > 0) std::memcpy(target.prepare(bytes).data(), threadScratch(), bytes);
}

// A read that holds no memory of `target`'s until bytes are there, and then
// only as much as came: the recv() lands in the thread's scratch and is copied
// out. Why not recv() into `target` itself: the reactor performs a whole epoll
// batch of reads before it runs their handlers, so when thousands of clients
// leave at once (an end-of-file each) or thousands of streams get their next
// event, every read of the batch held a full-size block until its handler ran
// (the RSS of 8,000 streams rose by about 4 MB as they ended). A copy of what
// arrived, usually a head or one event, is cheaper than that memory. Drain-
// aware as above. The mutable_buffer base holds the target ReadBuffer's
// address and the read's size, and with them the peer's reported events (24
// bytes in every waiting read op): Asio sees only that the read is not empty,
// and never reads or writes at that address.
//
// Such a read may also be made ahead, together with other sockets' (see
// read_prefetch.hpp): its bytes are then copied into `target`'s free room
// (landAhead, a block the size of what came, as above) before the reactor
// performs the read. A read cancelled after that completes with
// operation_aborted and the count of those bytes, which its handler commits
// like any other (or the connection's next bytes are lost).
struct ReadyBuffer : boost::asio::mutable_buffer {
  ReadyBuffer(ReadBuffer& buffer, std::size_t size, const unsigned* peerEvents = nullptr)
      : boost::asio::mutable_buffer(&buffer, size), peerEvents_(peerEvents) {}
  ReadBuffer& target() const { return *static_cast<ReadBuffer*>(data()); }
  boost::asio::mutable_buffer take() const { return landingFor(size()); }
  // Bytes a read made ahead received: to `target`'s free room, as received()
  // does from the scratch. May throw (allocation).
  void landAhead(const char* bytes, std::size_t n) const {
    if (n > 0) std::memcpy(target().prepare(n).data(), bytes, n);
  }
  void idle() const { releaseIdle(target()); }
  void received(std::size_t bytes) const { landReceived(target(), bytes); }
  bool peerClosed() const { return peerCloseReported(peerEvents_); }

 private:
  const unsigned* peerEvents_;
};

// The receive op both buffer kinds get in place of Asio's own (below): one
// recv() into `Buffer::take()`, handed to `Buffer::received`; a short read
// marks the socket drained. Runs
// on the worker's thread (one io_context per worker), as the whole op does.
template <class Buffer>
class DrainAwareRecvOp : public boost::asio::detail::reactor_op {
 public:
  DrainAwareRecvOp(const boost::system::error_code& success_ec, boost::asio::detail::socket_type socket,
                   boost::asio::detail::socket_ops::state_type state, const Buffer& buffer,
                   boost::asio::socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &DrainAwareRecvOp::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffer_(buffer),
        flags_(flags) {}

  // For ReadPrefetch (read_prefetch.hpp), which makes this read before the
  // reactor performs it, together with other sockets' reads.
  int descriptor() const { return socket_; }
  boost::asio::socket_base::message_flags flags() const { return flags_; }
  bool readAhead() const { return ahead_ != Ahead::None; }
  // The most a read made ahead may take.
  std::size_t aheadLimit() const { return buffer_.size(); }
  // What the read ahead into `size` bytes at `landed` gave: bytes, 0 for
  // end-of-file, or -errno. The bytes move into the op's buffer and their
  // count is the op's at once, so a cancel before the reactor performs it
  // still hands them to the handler.
  void tookAhead(const char* landed, std::size_t size, int result) {
    namespace ops = boost::asio::detail::socket_ops;
    if (result > 0) {
      try {
        buffer_.landAhead(landed, static_cast<std::size_t>(result));
      } catch (...) {
        result = -ENOMEM;  // the bytes are out of the socket: the connection cannot go on
      }
    }
    if (result == -EAGAIN || result == -EWOULDBLOCK) {
      ahead_ = Ahead::Empty;
      return;
    }
    // Interrupted, or left unreported by a ring that broke: the reactor's
    // own read tries the socket again.
    if (result == -EINTR || result == -ECANCELED) return;
    ahead_ = Ahead::Read;
    aheadSize_ = size;
    ec_ = boost::system::error_code();  // a first try that found nothing left would_block here
    // An error is the op's now: the kernel reports a reset only once.
    if (result < 0) ec_.assign(-result, boost::asio::error::get_system_category());
    else bytes_transferred_ = static_cast<std::size_t>(result);
    if (result == 0 && size > 0 && (state_ & ops::stream_oriented) != 0) ec_ = boost::asio::error::eof;
  }

  static status do_perform(reactor_op* base) {
    namespace ops = boost::asio::detail::socket_ops;
    auto* o = static_cast<DrainAwareRecvOp*>(base);
    if (o->ahead_ != Ahead::None) {
      const Ahead ahead = std::exchange(o->ahead_, Ahead::None);
      if (ahead == Ahead::Empty) {
        // The socket was empty when read ahead: the next byte raises an event.
        o->buffer_.idle();
        return not_done;
      }
      // The bytes are in the buffer's free room already; the rule is the
      // same as below.
      return o->bytes_transferred_ < o->aheadSize_ && !o->buffer_.peerClosed() ? done_and_exhausted : done;
    }
    const auto into = o->buffer_.take();
    if (!ops::non_blocking_recv1(o->socket_, into.data(), into.size(), o->flags_,
                                 (o->state_ & ops::stream_oriented) != 0, o->ec_, o->bytes_transferred_)) {
      o->buffer_.idle();
      return not_done;
    }
    o->buffer_.received(o->bytes_transferred_);
    // Short (end-of-file and errors included): the queue is empty now, and the
    // next byte raises an event. A full buffer may have left more behind; so
    // may a FIN the reactor already reported, which raises no event again.
    return o->bytes_transferred_ < into.size() && !o->buffer_.peerClosed() ? done_and_exhausted : done;
  }

 private:
  enum class Ahead : std::uint8_t { None, Empty, Read };

  boost::asio::detail::socket_type socket_;
  boost::asio::detail::socket_ops::state_type state_;
  Buffer buffer_;
  boost::asio::socket_base::message_flags flags_;
  Ahead ahead_ = Ahead::None;  // whether (and what) ReadPrefetch read for this op
  std::size_t aheadSize_ = 0;  // the room the read ahead had
};

}  // namespace infergate

namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<infergate::DrainAwareBuffer>
    : public infergate::DrainAwareRecvOp<infergate::DrainAwareBuffer> {
  using DrainAwareRecvOp::DrainAwareRecvOp;
};

template <>
class reactive_socket_recv_op_base<infergate::ReadyBuffer> : public infergate::DrainAwareRecvOp<infergate::ReadyBuffer> {
  using DrainAwareRecvOp::DrainAwareRecvOp;
};

}  // namespace boost::asio::detail

namespace infergate {

// The read that waits for a new message (the next request on a keep-alive
// connection, the answer to a request just sent): no recv() while the socket
// is known to be drained.
template <class Socket, class Handler>
void readNextMessage(Socket& socket, boost::asio::mutable_buffer buffer, Handler&& handler) {
  socket.async_read_some(DrainAwareBuffer(buffer), std::forward<Handler>(handler));
}

// One recv() on a socket that may be empty: false when it would block, else
// the read's outcome as Asio reports it (end-of-file as an error).
inline bool tryRecv(int fd, boost::asio::mutable_buffer buffer, boost::system::error_code& ec, std::size_t& bytes) {
  ssize_t n;
  do n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  ec = {};
  if (n < 0) ec.assign(errno, boost::asio::error::get_system_category());
  else if (n == 0 && buffer.size() > 0) ec = boost::asio::error::eof;
  bytes = n > 0 ? static_cast<std::size_t>(n) : 0;
  return true;
}

// The reads below take the events the reactor last reported for the socket
// (`peerEvents`, from peerCloseEventsOf in peer_close_events.hpp; null for a
// socket whose registration does not report the peer's close). With them, a
// short read is trusted in the middle of a message too, because a FIN that
// came with it shows in the events: a stream's next event and the rest of a
// long answer are waited for without first a recv() that finds the socket
// empty. Without them, a read in the middle of a message tries the socket
// first whatever the drain mark says, so an end-of-file that came with
// earlier data is seen now.

// A read in the middle of a message. Completes through the io_context either
// way, as Asio's own reads do.
template <class Socket, class Handler>
void readMore(Socket& socket, boost::asio::mutable_buffer buffer, const unsigned* peerEvents, Handler&& handler) {
  boost::system::error_code ec;
  std::size_t bytes = 0;
  if (peerEvents != nullptr || !tryRecv(socket.native_handle(), buffer, ec, bytes))
    return socket.async_read_some(DrainAwareBuffer(buffer, peerEvents), std::forward<Handler>(handler));
  boost::asio::post(socket.get_executor(),
                    [handler = std::forward<Handler>(handler), ec, bytes]() mutable { handler(ec, bytes); });
}

template <class Socket, class Handler>
void readMore(Socket& socket, boost::asio::mutable_buffer buffer, Handler&& handler) {
  readMore(socket, buffer, nullptr, std::forward<Handler>(handler));
}

// readNextMessage into `target`, whose memory is taken only when bytes are
// there (ReadyBuffer): the completion's byte count is then committed as usual.
template <class Socket, class Handler>
void readNextMessageInto(Socket& socket, ReadBuffer& target, std::size_t size, const unsigned* peerEvents,
                         Handler&& handler) {
  releaseIdle(target);
  socket.async_read_some(ReadyBuffer(target, size, peerEvents), std::forward<Handler>(handler));
}

template <class Socket, class Handler>
void readNextMessageInto(Socket& socket, ReadBuffer& target, std::size_t size, Handler&& handler) {
  readNextMessageInto(socket, target, size, nullptr, std::forward<Handler>(handler));
}

// readNextMessageInto's wait on a TLS stream (OpenSSL reads the socket
// itself, so no drain mark): the buffer is given back while it waits and
// taken when the socket is readable or OpenSSL holds bytes.
template <class Tls, class Handler>
void readWhenReadyInto(Tls& tls, ReadBuffer& target, std::size_t size, Handler&& handler) {
  releaseIdle(target);
  tls.async_read_when_ready(target, size, std::forward<Handler>(handler));
}

// The first look of a wait that may be long: when bytes, an end-of-file or an
// error are already on `socket` (up to `size` of them), lands them in `target`
// and posts `handler` with them, as a read's completion (true; the handler is
// taken); false when the socket is empty (the handler is left to the caller).
template <class Socket, class Handler>
bool takeWaiting(Socket& socket, ReadBuffer& target, std::size_t size, Handler&& handler) {
  boost::system::error_code ec;
  std::size_t bytes = 0;
  if (!tryRecv(socket.native_handle(), landingFor(size), ec, bytes)) return false;
  landReceived(target, bytes);
  boost::asio::post(socket.get_executor(),
                    [handler = std::forward<Handler>(handler), ec, bytes]() mutable { handler(ec, bytes); });
  return true;
}

// readMore into `target` for a wait that may be long (a stream's next event,
// a client that sends nothing until its answer is over): if the socket is
// empty, waits holding no buffer (ReadyBuffer).
template <class Socket, class Handler>
void readMoreInto(Socket& socket, ReadBuffer& target, std::size_t size, const unsigned* peerEvents,
                  Handler&& handler) {
  // (takeWaiting takes the handler only when it returns true.)
  if (peerEvents == nullptr && takeWaiting(socket, target, size, std::forward<Handler>(handler))) return;
  readNextMessageInto(socket, target, size, peerEvents, std::forward<Handler>(handler));
}

template <class Socket, class Handler>
void readMoreInto(Socket& socket, ReadBuffer& target, std::size_t size, Handler&& handler) {
  readMoreInto(socket, target, size, nullptr, std::forward<Handler>(handler));
}

}  // namespace infergate
