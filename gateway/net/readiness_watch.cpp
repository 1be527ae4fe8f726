#include "gateway/net/readiness_watch.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "metrics/zero_table.hpp"

namespace infergate {
namespace {

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
  reactor_ = ReactorEvents(io);
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
  if (watching_ == 0 || epollFd != reactor_.epollFd() || io_ == nullptr) return;
  auto& table = watchers();
  for (int i = 0; i < count && watching_ > 0; ++i) {
    if (!reactor_.isSocket(events[i]) || (events[i].events & kReadable) == 0) continue;
    const int fd = ReactorEvents::descriptorOf(events[i]);
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
