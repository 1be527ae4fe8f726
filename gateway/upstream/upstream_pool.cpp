#include "gateway/upstream/upstream_pool.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "gateway/net/peer_close_events.hpp"
#include "gateway/net/socket_read.hpp"

namespace infergate {

namespace {

// A pooled connection the server has closed (or written to unasked) reads as
// ready: peeking without blocking tells a dead connection from a quiet one.
// Connections idle for less than kPeekAfter skip the peek (one syscall per
// request on a busy pool); if one of those was closed after all, the relay
// retries once on a fresh connection, since no response byte was seen.
constexpr auto kPeekAfter = std::chrono::seconds(1);

bool stillUsable(UpstreamConnection& conn, CoarseSteadyClock::time_point now) {
  if (!conn.socket.is_open() || conn.buffer.size() != 0) return false;
  // A close the reactor has reported needs no peek (peer_close_events.hpp).
  if (peerCloseReported(peerCloseEventsOf(conn.socket))) return false;
  if (now - conn.idleSince < kPeekAfter) return true;
  char byte;
  ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

UpstreamPool::UpstreamPool(boost::asio::io_context& io, const Runtime& runtime, const UpstreamStats* stats,
                           unsigned worker)
    : io_(io), sweepTimer_(io), stats_(stats), worker_(worker) {
  const auto places = std::max(runtime.endpointCapacity, runtime.endpointCount);
  idle_.resize(places);
  sessions_.resize(places);
  idleTtl_.resize(places, std::chrono::milliseconds(60'000));
  live_.resize(places, 0);
  std::chrono::milliseconds shortest{60'000};
  for (const auto& backend : runtime.backends) shortest = std::min(shortest, backend.config->pool.idle_ttl);
  keepOnly(runtime);
  sweepInterval_ = std::clamp(shortest / 2, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  scheduleSweep();
}

std::unique_ptr<UpstreamConnection> UpstreamPool::acquire(const EndpointRuntime& endpoint,
                                                          const config::PoolConfig& pool,
                                                          std::uint64_t addressGeneration) {
  auto& list = idle_[endpoint.id];
  const auto now = CoarseSteadyClock::now();
  while (!list.empty()) {
    // Most recently used first: it is the least likely to have been closed.
    auto conn = std::move(list.back());
    list.pop_back();
    if (conn->addressGeneration == addressGeneration && now - conn->idleSince < pool.idle_ttl &&
        stillUsable(*conn, now)) {
      publish(endpoint.id);
      return conn;
    }
  }
  publish(endpoint.id);
  return nullptr;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> conn, const config::PoolConfig& pool) {
  auto& list = idle_[conn->endpointId];
  if (closed_ || !live_[conn->endpointId] || list.size() >= pool.max_idle_per_endpoint) return;  // destructor closes it
  idleTtl_[conn->endpointId] = pool.idle_ttl;
  conn->idleSince = CoarseSteadyClock::now();
  const auto id = conn->endpointId;
  list.push_back(std::move(conn));
  publish(id);
}

void UpstreamPool::publish(std::size_t endpointId) {
  if (stats_)
    stats_->connections.set(worker_, {static_cast<std::uint32_t>(endpointId + 1), UpstreamStats::kIdle},
                            static_cast<std::int64_t>(idle_[endpointId].size()));
}

void UpstreamPool::closeAll() {
  closed_ = true;
  sweepTimer_.cancel();
  for (std::size_t id = 0; id < idle_.size(); ++id) {
    idle_[id].clear();
    publish(id);
  }
}

void UpstreamPool::keepOnly(const Runtime& runtime) {
  std::fill(live_.begin(), live_.end(), 0);
  for (const auto& backend : runtime.backends)
    for (const auto& endpoint : backend.endpoints) live_[endpoint.id] = 1;
  for (std::size_t id = 0; id < idle_.size(); ++id)
    if (!live_[id] && !idle_[id].empty()) {
      idle_[id].clear();
      publish(id);
    }
}

void UpstreamPool::scheduleSweep() {
  sweepTimer_.expires_after(sweepInterval_);
  sweepTimer_.async_wait([this](boost::system::error_code ec) {
    if (ec || closed_) return;
    sweep();
    scheduleSweep();
  });
}

void UpstreamPool::sweep() {
  const auto now = CoarseSteadyClock::now();
  for (std::size_t id = 0; id < idle_.size(); ++id) {
    auto& list = idle_[id];
    const auto ttl = idleTtl_[id];
    if (std::erase_if(list, [&](const std::unique_ptr<UpstreamConnection>& c) { return now - c->idleSince >= ttl; }))
      publish(id);
  }
}

void UpstreamPool::keepSession(std::size_t endpointId, SSL_SESSION* session) {
  if (session == nullptr || sessions_[endpointId].get() == session) return;
  if (SSL_SESSION_is_resumable(session) != 1) return;
  SSL_SESSION_up_ref(session);
  sessions_[endpointId].reset(session);
}

}  // namespace infergate
