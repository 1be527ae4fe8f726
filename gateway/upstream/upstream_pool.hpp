#pragma once
// Per-worker keep-alive connections to upstream endpoints. Owned by one worker
// thread, so no locking. A connection comes back only after a response that
// completed cleanly; idle connections expire after the backend's idle TTL.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "gateway/net/coarse_clock.hpp"
#include "gateway/net/send_batch.hpp"
#include "gateway/net/socket_read.hpp"
#include "gateway/net/worker_io.hpp"
#include "gateway/server/runtime.hpp"
#include "gateway/upstream/upstream_stats.hpp"

namespace infergate {

struct UpstreamConnection {
  using TlsStream = infergate::TlsStream<WorkerSocket>;
  // `tls`: the endpoint's context when it is https:// (the socket is then the
  // TLS stream's lowest layer).
  UpstreamConnection(WorkerExecutor ex, std::size_t endpoint, boost::asio::ssl::context* tls = nullptr)
      : plain(ex),
        tlsStream(tls ? std::make_unique<TlsStream>(ex, *tls) : nullptr),
        socket(tlsStream ? tlsStream->next_layer() : plain),
        endpointId(endpoint) {}
  // Its descriptor closes with it: a send still queued for it is not made
  // (send_batch.hpp), since the number may serve another connection next.
  ~UpstreamConnection() { forgetQueuedSend(socket.native_handle()); }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  WorkerSocket plain;                    // unused with TLS
  std::unique_ptr<TlsStream> tlsStream;  // https:// endpoints
  WorkerSocket& socket;                  // the TCP connection either way
  ReadBuffer buffer;  // bytes read but not yet parsed
  std::size_t endpointId;
  std::uint64_t addressGeneration = 0;  // EndpointAddress::generation() when it connected
  CoarseSteadyClock::time_point idleSince{};  // idle ages are seconds: a tick is precise enough
  unsigned requestsServed = 0;
  // Last, beside requestsServed: every open stream keeps its connection.
  bool tcpConnected = false;             // TLS: a failure after this is the handshake's
};

class UpstreamPool {
 public:
  // `stats` (may be null) counts idle connections in worker `worker`'s shard.
  // `runtime` outlives the pool.
  // `runtime`: the one at start (its capacity sizes the tables, its pools the sweep).
  UpstreamPool(boost::asio::io_context& io, const Runtime& runtime, const UpstreamStats* stats, unsigned worker);

  // An idle, live connection to `endpoint`, or null (the caller connects).
  // Connections made to an address the endpoint no longer has (another
  // `addressGeneration`) are closed, not returned.
  std::unique_ptr<UpstreamConnection> acquire(const EndpointRuntime& endpoint, const config::PoolConfig& pool,
                                              std::uint64_t addressGeneration);
  // Keep `conn` for reuse. Callers only release connections whose last response
  // was read completely and allowed keep-alive.
  void release(std::unique_ptr<UpstreamConnection> conn, const config::PoolConfig& pool);
  std::size_t idleCount(std::size_t endpointId) const { return idle_[endpointId].size(); }
  void closeAll();
  // A reload took endpoints away: their idle connections are closed (those in
  // use finish their request and are then closed, not kept).
  void keepOnly(const Runtime& runtime);
  bool kept(std::size_t endpointId) const { return live_[endpointId] != 0; }

  // TLS session resumption: the endpoint's last session (null: none), for a
  // new connection to offer; and a connection's session kept once its
  // answer was read (TLS 1.3 tickets come after the handshake).
  SSL_SESSION* session(std::size_t endpointId) const { return sessions_[endpointId].get(); }
  void keepSession(std::size_t endpointId, SSL_SESSION* session);

 private:
  void scheduleSweep();
  void publish(std::size_t endpointId);
  void sweep();

  boost::asio::io_context& io_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // by endpoint id
  std::vector<std::chrono::milliseconds> idleTtl_;                       // by endpoint id: its backend's, as last released
  std::vector<char> live_;                                               // by endpoint id: in the config in force
  WorkerTimer sweepTimer_;
  std::chrono::milliseconds sweepInterval_;
  bool closed_ = false;
  struct SessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
  };
  std::vector<std::unique_ptr<SSL_SESSION, SessionFree>> sessions_;  // by endpoint id
  const UpstreamStats* stats_;
  unsigned worker_;
};

}  // namespace infergate
