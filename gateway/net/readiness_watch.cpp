#include "gateway/net/readiness_watch.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/detail/epoll_reactor.hpp>
#include <boost/asio/post.hpp>

#include "gateway/net/asio_private.hpp"
#include "metrics/zero_table.hpp"

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
template struct ExposeMember<DescriptorOf, &Descriptor::descriptor_>;

// Descriptors beyond this are watched with a pending read (the table is
// address space only: 32 MiB at most, resident where written).
constexpr std::size_t kMaxTableDescriptors = std::size_t{1} << 22;

// One table for the process: descriptor numbers are the process's, and each
// descriptor is one worker's, whose thread alone writes its cell. Sized once,
// at the first watch (after main raised the descriptor limit), to the limit.
metrics::ZeroTable<ReadyWatcher*>& watchers() {
  static metrics::ZeroTable<ReadyWatcher*> table([] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMaxTableDescriptors;
    return std::min<std::size_t>(limit.rlim_cur, kMaxTableDescriptors);
  }());
  return table;
}

// Events that mean a read would not block: bytes, the peer's FIN or reset, an error.
constexpr unsigned kReadable = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;

}  // namespace

void ReadinessWatch::attach(boost::asio::io_context& io) {
  io_ = &io;
  auto& reactor = boost::asio::use_service<Reactor>(io);
  interrupter_ = &(reactor.*memberOf(InterrupterOf{}));
  timerFd_ = &(reactor.*memberOf(TimerFdOf{}));
  epollFd_ = reactor.*memberOf(EpollFdOf{});
}

bool ReadinessWatch::watch(int fd, ReadyWatcher& watcher) {
  auto& table = watchers();
  if (fd < 0 || static_cast<std::size_t>(fd) >= table.size()) return false;
  if (table.load(fd) == nullptr) ++watching_;
  table.store(fd, &watcher);
  return true;
}

bool ReadinessWatch::unwatch(int fd, const ReadyWatcher& watcher) {
  auto& table = watchers();
  if (fd < 0 || static_cast<std::size_t>(fd) >= table.size() || table.load(fd) != &watcher) return false;
  table.store(fd, nullptr);
  --watching_;
  return true;
}

void ReadinessWatch::afterWait(int epollFd, const epoll_event* events, int count) noexcept {
  if (watching_ == 0 || epollFd != epollFd_ || io_ == nullptr) return;
  auto& table = watchers();
  for (int i = 0; i < count && watching_ > 0; ++i) {
    void* ptr = events[i].data.ptr;
    if (ptr == interrupter_ || ptr == timerFd_ || (events[i].events & kReadable) == 0) continue;
    // -1 once the reactor let the descriptor go (its state is pooled, not freed).
    const int fd = static_cast<Descriptor*>(ptr)->*memberOf(DescriptorOf{});
    if (fd < 0 || static_cast<std::size_t>(fd) >= table.size()) continue;
    ReadyWatcher* watcher = table.load(fd);
    if (watcher == nullptr) continue;
    try {
      boost::asio::post(*io_, [hold = watcher->keepAlive(), watcher] { watcher->onSocketReady(); });
    } catch (...) {
      // No memory for the notice: the watch stays, and this event is missed.
      // The watcher's request still ends by its own deadlines, and the
      // connection's next read finds what came.
      continue;
    }
    table.store(fd, nullptr);
    --watching_;
  }
}

}  // namespace infergate
