#include "gateway/net/read_prefetch.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/detail/epoll_reactor.hpp>
#include <cerrno>
#include <span>

#include "gateway/net/asio_private.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/socket_read.hpp"

namespace infergate {
namespace {

namespace detail = boost::asio::detail;
using Reactor = detail::epoll_reactor;
using Descriptor = Reactor::descriptor_state;
using AheadOp = DrainAwareRecvOp<ReadyBuffer>;

// The reactor's private members, by name (asio_private.hpp).
struct OpQueuesOf {
  using type = detail::op_queue<detail::reactor_op> (Descriptor::*)[Reactor::max_ops];
  friend type memberOf(OpQueuesOf);
};
struct PerformOf {
  using type = detail::reactor_op::status (*detail::reactor_op::*)(detail::reactor_op*);
  friend type memberOf(PerformOf);
};
template struct ExposeMember<OpQueuesOf, &Descriptor::op_queue_>;
template struct ExposeMember<PerformOf, &detail::reactor_op::perform_func_>;

// The read op waiting first on the socket of this event, if it is one that
// can be read ahead.
AheadOp* aheadOpOf(void* descriptorState) {
  auto* descriptor = static_cast<Descriptor*>(descriptorState);
  detail::reactor_op* op = (descriptor->*memberOf(OpQueuesOf{}))[Reactor::read_op].front();
  if (op == nullptr || op->*memberOf(PerformOf{}) != &AheadOp::do_perform) return nullptr;
  auto* ahead = static_cast<AheadOp*>(op);
  // Read ahead by an earlier wait and not yet performed; or flags the ring
  // does not pass.
  if (ahead->readAhead() || ahead->flags() != 0) return nullptr;
  return ahead;
}

}  // namespace

ReadPrefetch::ReadPrefetch(boost::asio::io_context& io)
    : landing_(std::make_unique_for_overwrite<char[]>(kLandingBytes)),  // untouched until used
      reactor_(io) {}

void ReadPrefetch::afterWait(int epollFd, const epoll_event* events, int count) noexcept {
  if (epollFd != reactor_.epollFd() || count < 2 || !ring_.usable()) return;
  std::array<AheadOp*, UringBatch::kMaxBatch> ops;
  std::size_t found = 0;
  for (int i = 0; i < count && found < ops.size(); ++i) {
    if (!reactor_.isSocket(events[i])) continue;
    // Readable without an error pending: an error is left to the reactor's
    // own read, which reports it.
    if ((events[i].events & (EPOLLIN | EPOLLERR)) != EPOLLIN) continue;
    if (AheadOp* op = aheadOpOf(events[i].data.ptr)) ops[found++] = op;
  }
  if (found < 2) return;  // a lone recv() costs less than a ring of one
  // Each read gets an equal share of the landing area, at most kAheadBytes.
  const std::size_t share = std::min(kAheadBytes, kLandingBytes / found);
  std::array<UringBatch::Op, UringBatch::kMaxBatch> reads;
  for (std::size_t i = 0; i < found; ++i) {
    const std::size_t size = std::min(share, ops[i]->aheadLimit());
    reads[i] = {ops[i]->descriptor(), landing_.get() + i * share, static_cast<std::uint32_t>(size)};
  }
  std::array<int, UringBatch::kMaxBatch> results;
  ring_.recv(std::span(reads.data(), found), std::span(results.data(), found));
  for (std::size_t i = 0; i < found; ++i)
    ops[i]->tookAhead(static_cast<const char*>(reads[i].data), reads[i].size, results[i]);
  ++counts_.rings;
  counts_.reads += found;
}

void ReadPrefetch::readForWatches(std::span<const WatchRead> reads) noexcept {
  if (reads.size() < 2 || !ring_.usable()) return;
  const std::size_t found = std::min<std::size_t>(reads.size(), UringBatch::kMaxBatch);
  const std::size_t share = std::min(kAheadBytes, kLandingBytes / found);
  std::array<UringBatch::Op, UringBatch::kMaxBatch> ops;
  for (std::size_t i = 0; i < found; ++i)
    ops[i] = {reads[i].fd, landing_.get() + i * share, static_cast<std::uint32_t>(std::min(share, reads[i].limit))};
  std::array<int, UringBatch::kMaxBatch> results;
  ring_.recv(std::span(ops.data(), found), std::span(results.data(), found));
  for (std::size_t i = 0; i < found; ++i)
    reads[i].watcher->tookAhead(static_cast<const char*>(ops[i].data), ops[i].size, results[i]);
  ++counts_.rings;
  counts_.reads += found;
}

}  // namespace infergate
