#pragma once
// What the `epoll_wait()` wrapper's consumers (read_prefetch.hpp,
// readiness_watch.hpp) need to read a worker's wait: which epoll descriptor
// is that worker's reactor's, and which of its events are sockets (the
// reactor's own wake-up and timer descriptors are not), with the socket's
// descriptor number.
//
// Bound to Boost 1.81's epoll reactor: its members and its descriptor states
// are reached by name (asio_private.hpp).
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>

namespace boost::asio::detail {
class epoll_reactor;
}

namespace infergate {

class ReactorEvents {
 public:
  ReactorEvents() = default;
  explicit ReactorEvents(boost::asio::io_context& io);
  int epollFd() const { return epollFd_; }
  // Any reactor's epoll descriptor (peer_close_events.cpp reaches a socket's
  // reactor through its descriptor state).
  static int epollFdOf(const boost::asio::detail::epoll_reactor& reactor);
  // A socket's event (its data is the socket's descriptor state), not the
  // reactor's own.
  bool isSocket(const epoll_event& event) const {
    return event.data.ptr != interrupter_ && event.data.ptr != timerFd_;
  }
  // The descriptor of a socket's event; -1 once the reactor let it go (its
  // state is pooled, not freed).
  static int descriptorOf(const epoll_event& event);
  // A socket's event that reports bytes, a reset or an error sets the mark
  // that its next read tries at once (the reactor's speculative-read flag)
  // now, as the wait returns, rather than when the reactor handles the event
  // later in this round: a handler that runs before that (a write's
  // completion made by the wait's flush) and asks whether the socket is
  // drained (heldDrained, peer_close_events.hpp) must see it.
  static void noteReadable(const epoll_event& event);

 private:
  const void* interrupter_ = nullptr;
  const void* timerFd_ = nullptr;
  int epollFd_ = -1;
};

}  // namespace infergate
