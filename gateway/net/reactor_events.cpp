#include "gateway/net/reactor_events.hpp"

#include <boost/asio/detail/epoll_reactor.hpp>

#include "gateway/net/asio_private.hpp"

namespace infergate {
namespace {

namespace detail = boost::asio::detail;
using Reactor = detail::epoll_reactor;
using Descriptor = Reactor::descriptor_state;

// The reactor's private members, by name (asio_private.hpp).
struct InterrupterOf {
  using type = detail::select_interrupter Reactor::*;
  friend type memberOf(InterrupterOf);
};
struct TimerFdOf {
  using type = int Reactor::*;
  friend type memberOf(TimerFdOf);
};
struct EpollFdOf {
  using type = int Reactor::*;
  friend type memberOf(EpollFdOf);
};
struct DescriptorOf {
  using type = int Descriptor::*;
  friend type memberOf(DescriptorOf);
};
template struct ExposeMember<InterrupterOf, &Reactor::interrupter_>;
template struct ExposeMember<TimerFdOf, &Reactor::timer_fd_>;
template struct ExposeMember<EpollFdOf, &Reactor::epoll_fd_>;
struct TrySpeculativeOf {
  using type = bool (Descriptor::*)[Reactor::max_ops];
  friend type memberOf(TrySpeculativeOf);
};
template struct ExposeMember<DescriptorOf, &Descriptor::descriptor_>;
template struct ExposeMember<TrySpeculativeOf, &Descriptor::try_speculative_>;

}  // namespace

ReactorEvents::ReactorEvents(boost::asio::io_context& io) {
  auto& reactor = boost::asio::use_service<Reactor>(io);
  interrupter_ = &(reactor.*memberOf(InterrupterOf{}));
  timerFd_ = &(reactor.*memberOf(TimerFdOf{}));
  epollFd_ = epollFdOf(reactor);
}

int ReactorEvents::epollFdOf(const Reactor& reactor) { return reactor.*memberOf(EpollFdOf{}); }

int ReactorEvents::descriptorOf(const epoll_event& event) {
  return static_cast<const Descriptor*>(event.data.ptr)->*memberOf(DescriptorOf{});
}

void ReactorEvents::noteReadable(const epoll_event& event) {
  if ((event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) return;
  (static_cast<Descriptor*>(event.data.ptr)->*memberOf(TrySpeculativeOf{}))[Reactor::read_op] = true;
}

}  // namespace infergate
