#include "gateway/net/readiness_watch.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>

#include "gateway/net/read_prefetch.hpp"
#include "metrics/zero_table.hpp"

namespace infergate {
namespace {

// Descriptors beyond this are watched with a pending read (the table is
// address space only: 32 MiB at most, resident where written).
constexpr std::size_t kMaxTableDescriptors = std::size_t{1} << 22;

// One table for the process: descriptor numbers are the process's, and each
// descriptor is one worker's, whose thread alone writes its cell. Sized once,
// at the first watch (after main raised the descriptor limit), to the limit.
// A cell: the watcher's address, with kTakesEvent set for Event::Taken.
metrics::ZeroTable<std::uintptr_t>& watchers() {
  static metrics::ZeroTable<std::uintptr_t> table([] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMaxTableDescriptors;
    return std::min<std::size_t>(limit.rlim_cur, kMaxTableDescriptors);
  }());
  return table;
}

// Events that mean a read would not block: bytes, the peer's FIN or reset, an error.
constexpr unsigned kReadable = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;

constexpr std::uintptr_t kTakesEvent = 1;
static_assert(alignof(ReadyWatcher) > kTakesEvent);

ReadyWatcher* watcherOf(std::uintptr_t cell) { return reinterpret_cast<ReadyWatcher*>(cell & ~kTakesEvent); }

}  // namespace

void ReadinessWatch::attach(boost::asio::io_context& io) {
  io_ = &io;
  reactor_ = ReactorEvents(io);
}

bool ReadinessWatch::watch(int fd, ReadyWatcher& watcher, Event event) {
  auto& table = watchers();
  if (fd < 0 || static_cast<std::size_t>(fd) >= table.size()) return false;
  if (table.load(fd) == 0) ++watching_;
  table.store(fd, reinterpret_cast<std::uintptr_t>(&watcher) | (event == Event::Taken ? kTakesEvent : 0));
  return true;
}

bool ReadinessWatch::unwatch(int fd, const ReadyWatcher& watcher) {
  auto& table = watchers();
  if (fd < 0 || static_cast<std::size_t>(fd) >= table.size() || watcherOf(table.load(fd)) != &watcher) return false;
  table.store(fd, 0);
  --watching_;
  return true;
}

void ReadinessWatch::afterWait(int epollFd, epoll_event* events, int count) noexcept {
  if (epollFd != reactor_.epollFd() || io_ == nullptr) return;
  auto& table = watchers();
  std::array<ReadPrefetch::WatchRead, UringBatch::kMaxBatch> aheads;
  std::size_t ahead = 0;
  for (int i = 0; i < count; ++i) {
    if (!reactor_.isSocket(events[i]) || (events[i].events & kReadable) == 0) continue;
    const int fd = watching_ > 0 ? ReactorEvents::descriptorOf(events[i]) : -1;
    const std::uintptr_t cell = fd >= 0 && static_cast<std::size_t>(fd) < table.size() ? table.load(fd) : 0;
    if (ReadyWatcher* watcher = watcherOf(cell)) {
      try {
        boost::asio::post(*io_, [hold = watcher->keepAlive(), watcher] { watcher->onSocketReady(); });
        if ((cell & kTakesEvent) != 0) {
          events[i].events &= ~static_cast<std::uint32_t>(EPOLLIN);
          // Bytes to read without an error pending (an error is the
          // watcher's own recv() to report).
          const std::size_t limit = watcher->readAheadLimit();
          if (limit > 0 && (events[i].events & EPOLLERR) == 0 && ahead < aheads.size())
            aheads[ahead++] = {fd, limit, watcher};
        }
        table.store(fd, 0);
        --watching_;
      } catch (...) {
        // No memory for the notice: the watch stays, and this event is missed.
        // The watcher's request still ends by its own deadlines, and the
        // connection's next read finds what came.
      }
    }
    ReactorEvents::noteReadable(events[i]);
  }
  // A lone recv() costs less than a ring of one: its notice makes it.
  if (ahead >= 2)
    if (ReadPrefetch* prefetch = ReadPrefetch::current()) prefetch->readForWatches(std::span(aheads.data(), ahead));
}

}  // namespace infergate
