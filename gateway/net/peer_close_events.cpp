#include "gateway/net/peer_close_events.hpp"

#include <sys/epoll.h>

#include <boost/asio/detail/epoll_reactor.hpp>

#include "gateway/net/asio_private.hpp"
#include "gateway/net/reactor_events.hpp"

namespace infergate {
namespace {

namespace detail = boost::asio::detail;
using Reactor = detail::epoll_reactor;
using Descriptor = Reactor::descriptor_state;
using SocketBase = boost::asio::basic_socket<boost::asio::ip::tcp, WorkerExecutor>;
using SocketImpl = detail::io_object_impl<detail::reactive_socket_service<boost::asio::ip::tcp>, WorkerExecutor>;

// The reactor's private members, by name (asio_private.hpp).
struct ImplOf {
  using type = SocketImpl SocketBase::*;
  friend type memberOf(ImplOf);
};
struct ReactorOf {
  using type = Reactor* Descriptor::*;
  friend type memberOf(ReactorOf);
};
struct RegisteredEventsOf {
  using type = std::uint32_t Descriptor::*;
  friend type memberOf(RegisteredEventsOf);
};
struct TrySpeculativeOf {
  using type = bool (Descriptor::*)[Reactor::max_ops];
  friend type memberOf(TrySpeculativeOf);
};
struct ReadyEventsOf {
  using type = unsigned int detail::scheduler_operation::*;
  friend type memberOf(ReadyEventsOf);
};
template struct ExposeMember<ImplOf, &SocketBase::impl_>;
template struct ExposeMember<ReactorOf, &Descriptor::reactor_>;
template struct ExposeMember<RegisteredEventsOf, &Descriptor::registered_events_>;
template struct ExposeMember<TrySpeculativeOf, &Descriptor::try_speculative_>;
template struct ExposeMember<ReadyEventsOf, &detail::scheduler_operation::task_result_>;

Descriptor* descriptorOf(WorkerSocket& socket) {
  SocketBase& base = socket;
  return (base.*memberOf(ImplOf{})).get_implementation().reactor_data_;
}

}  // namespace

void reportPeerCloseFromConnect(WorkerSocket& socket) {
  Descriptor* descriptor = descriptorOf(socket);
  if (descriptor == nullptr) return;
  auto& registered = descriptor->*memberOf(RegisteredEventsOf{});
  // Asio builds every later registration change from this mask: the connect
  // that waits adds EPOLLOUT with it (epoll_reactor::start_op). Until then the
  // mask says more than the kernel has, which nothing reads: no read starts
  // before the connect completes.
  if (registered == 0 || (registered & EPOLLOUT) != 0) return;
  registered |= EPOLLRDHUP;
  // A socket that has received nothing is drained: its first read (the
  // answer's, after the request is sent) waits for the first event instead of
  // a recv() that finds nothing. Any byte or FIN that comes raises that event,
  // which sets the reactor back to trying at once.
  (descriptor->*memberOf(TrySpeculativeOf{}))[Reactor::read_op] = false;
}

bool reportPeerClose(WorkerSocket& socket) {
  Descriptor* descriptor = descriptorOf(socket);
  if (descriptor == nullptr) return false;
  auto& registered = descriptor->*memberOf(RegisteredEventsOf{});
  if (registered == 0) return false;  // not in epoll (Asio's fallback for regular files)
  // EPOLLOUT comes only with a registration change made from the mask, so a
  // mask with both has been given to the kernel; with EPOLLRDHUP alone (a
  // connect that completed at once) it has not.
  if ((registered & EPOLLRDHUP) && (registered & EPOLLOUT)) return true;
  const Reactor* reactor = descriptor->*memberOf(ReactorOf{});
  epoll_event ev{};
  ev.events = registered | EPOLLRDHUP;
  ev.data.ptr = descriptor;
  if (epoll_ctl(ReactorEvents::epollFdOf(*reactor), EPOLL_CTL_MOD, socket.native_handle(), &ev) != 0) {
    // The kernel does not have it: reads must not rely on it (the mark made
    // before a connect that completed at once goes too).
    registered &= ~static_cast<std::uint32_t>(EPOLLRDHUP);
    return false;
  }
  // Asio's later changes (adding EPOLLOUT for a write that waits) start from
  // this mask, so they keep EPOLLRDHUP.
  registered = ev.events;
  return true;
}

const unsigned* peerCloseEventsOf(WorkerSocket& socket) {
  Descriptor* descriptor = descriptorOf(socket);
  if (descriptor == nullptr || (descriptor->*memberOf(RegisteredEventsOf{}) & EPOLLRDHUP) == 0) return nullptr;
  // The descriptor's state is an operation (private base): the C-style cast
  // is the conversion the language allows to an inaccessible base.
  auto* op = (detail::scheduler_operation*)descriptor;
  return &(op->*memberOf(ReadyEventsOf{}));
}

bool heldDrained(WorkerSocket& socket) {
  Descriptor* descriptor = descriptorOf(socket);
  if (descriptor == nullptr || (descriptor->*memberOf(RegisteredEventsOf{}) & EPOLLRDHUP) == 0) return false;
  return !(descriptor->*memberOf(TrySpeculativeOf{}))[Reactor::read_op];
}

namespace {
void setDrained(WorkerSocket& socket, bool drained) {
  Descriptor* descriptor = descriptorOf(socket);
  if (descriptor == nullptr) return;
  (descriptor->*memberOf(TrySpeculativeOf{}))[Reactor::read_op] = !drained;
}
}  // namespace

void markDrained(WorkerSocket& socket) { setDrained(socket, true); }
void markReadable(WorkerSocket& socket) { setDrained(socket, false); }

}  // namespace infergate
