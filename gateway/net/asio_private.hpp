#pragma once
// Named access to private members of Boost 1.81's epoll reactor, for the
// few places that must reach its state (peer_close_events.cpp,
// read_prefetch.cpp).
//
// How: an explicit instantiation may name a private member
// ([temp.spec.general]), and the friend it defines hands out the member
// pointer. Each use declares its tag, and instantiates, in its own file's
// unnamed namespace in infergate:
//
//   struct EpollFdOf {
//     using type = int Reactor::*;
//     friend type memberOf(EpollFdOf);
//   };
//   template struct ExposeMember<EpollFdOf, &Reactor::epoll_fd_>;
//   ... reactor.*memberOf(EpollFdOf{}) ...
#include <boost/version.hpp>

static_assert(BOOST_VERSION / 100 == 1081, "asio_private.hpp reaches into Boost 1.81's epoll reactor: re-check it");

namespace infergate {
// In each file's own unnamed namespace, with that file's tags: the friend a
// tag declares and the one an instantiation defines must be one function.
namespace {

template <class Tag, typename Tag::type Member>
struct ExposeMember {
  friend typename Tag::type memberOf(Tag) { return Member; }
};

}  // namespace
}  // namespace infergate
