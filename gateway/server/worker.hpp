#pragma once
// One worker: an io_context run by one thread, its own SO_REUSEPORT acceptor,
// its sessions, upstream pools and JSON parser. Nothing here is shared with
// other workers, so the request path takes no lock.
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "filters/filter_set.hpp"
#include "gateway/http/header_rules.hpp"
#include "gateway/net/connection_limits.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/slot_slab.hpp"
#include "gateway/net/worker_io.hpp"
#include "gateway/net/worker_wakeup.hpp"
#include "gateway/server/generation.hpp"
#include "gateway/server/runtime.hpp"
#include "gateway/server/session_list.hpp"
#include "gateway/upstream/cluster_state.hpp"
#include "gateway/upstream/endpoint_picker.hpp"
#include "gateway/upstream/slot_waits.hpp"
#include "gateway/upstream/upstream_pool.hpp"
#include "gateway/upstream/worker_upstream.hpp"

namespace infergate {

class DownstreamSession;

class Worker {
 public:
  // `generations`, `stats` and `labels` outlive the worker. `runtime` is the
  // config at start: it sizes the worker's tables and gives the server
  // settings (which need a restart); requests take theirs from generation().
  Worker(unsigned index, std::shared_ptr<const Runtime> runtime, ClusterState& cluster,
         const GenerationSlot& generations, const UpstreamStats& stats, const metrics::LabelSpace& labels);
  ~Worker();

  // Binds the shared listening port. Throws boost::system::system_error.
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Binds the HTTPS listener (server.tls) too: its sessions start with a handshake.
  void listenTls(const boost::asio::ip::tcp::endpoint& endpoint, const ClientTlsContext& context);
  boost::asio::ip::tcp::endpoint localTlsEndpoint() const { return tlsAcceptor_.local_endpoint(); }
  // Handshakes that failed (`timeout`: stalled past server.tls.handshake_timeout), counted
  // in the server's shared counters (null: not counted).
  void setTlsHandshakeFailures(std::atomic<std::uint64_t>* counters) { tlsFailures_ = counters; }
  void countTlsHandshakeFailure(bool timeout) {
    if (tlsFailures_) tlsFailures_[timeout ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
  }
  boost::asio::ip::tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }
  void start();      // spawns the thread
  void drain();      // thread-safe: stop accepting, close idle connections
  void cut();        // thread-safe: end what is still open (drain_timeout ran out), telling clients why
  void reload();     // thread-safe: a new generation is published (idle connections to removed endpoints close)
  void stop();       // thread-safe: abandon everything
  void join();
  int sessionCount() const { return sessionCount_.load(std::memory_order_relaxed); }

  // Worker-thread-only state used by sessions.
  boost::asio::io_context& io() { return io_; }
  // The config at start: server settings (listeners, limits, timeouts), which a reload does not change.
  const Runtime& runtime() const { return *runtime_; }
  // The config in force, for a request about to start (it keeps it to the end).
  const std::shared_ptr<const Generation>& generation() {
    if (generations_.number() != generation_->number) adoptGeneration();
    return generation_;
  }
  UpstreamPool& pool() { return pool_; }
  headers::RequestIdGenerator& requestIds() { return requestIds_; }
  simdjson::ondemand::parser& jsonParser() { return jsonParser_; }
  bool draining() const { return draining_; }
  ReadinessWatch& readiness() { return readiness_; }
  unsigned index() const { return index_; }
  WorkerUpstream& upstream() { return upstream_; }
  const metrics::LabelSpace& labels() const { return labels_; }
  // A connection a shared cap refuses: a 503 written at once (plain) and
  // closed; logged at most once a second per worker (a flood must not flood
  // the log).
  void refuseConnection(WorkerSocket& socket, ConnectionLimits::Refusal why, bool tls = false);
  // Shared caps (outlive the worker); required before start().
  void setConnectionLimits(ConnectionLimits* limits) { connectionLimits_ = limits; }
  ConnectionLimits& connectionLimits() { return *connectionLimits_; }
  // How long the worker may poll before it sleeps while loaded
  // (busy_poll.hpp); 0: never. server.busy_poll_us unless Server says the
  // workers share CPUs. Before start().
  void setBusyPollBudget(std::chrono::microseconds budget) { busyPollBudget_ = budget; }

  void registerSession(DownstreamSession& session);
  void unregisterSession(DownstreamSession& session);

 private:
  void accept();
  void acceptOn(WorkerAcceptor& acceptor, bool tls);
  void runLoop();
  void onWakeup(unsigned bits);
  void drainNow();
  void cutNow();
  void adoptGeneration();

  // The sessions' memory (slot_slab.hpp). First, so that it goes last: after
  // the io_context, whose handlers hold the last sessions.
  SlotSlab sessionSlab_;
  unsigned index_;
  std::shared_ptr<const Runtime> runtime_;
  ClusterState& cluster_;
  const GenerationSlot& generations_;
  std::shared_ptr<const Generation> generation_;
  const metrics::LabelSpace& labels_;
  EndpointPicker picker_;
  ConnectionLimits* connectionLimits_ = nullptr;
  std::chrono::microseconds busyPollBudget_;
  std::int64_t refusalsLoggedAtMs_ = 0;
  std::int64_t acceptFailureLoggedAtMs_ = 0;
  unsigned refusalsUnlogged_ = 0;
  // Declared before io_: handlers destroyed with io_ may still unregister sessions.
  SessionList<DownstreamSession> sessions_;
  std::atomic<int> sessionCount_{0};
  // Client connections watched without a read (readiness_watch.hpp); before
  // io_ for the same reason (a session ends its watch as it goes).
  ReadinessWatch readiness_;
  // Only this worker's thread ever touches io_ (other threads go through
  // wakeup_), so Asio's scheduler and reactor mutexes, taken on every
  // operation and completion, can go.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  WorkerWakeup wakeup_{io_};
  WorkerAcceptor acceptor_;
  WorkerAcceptor tlsAcceptor_;
  // Where each listener's accept() writes the client's address (no
  // getpeername() per connection).
  boost::asio::ip::tcp::endpoint acceptedPeer_;
  boost::asio::ip::tcp::endpoint acceptedTlsPeer_;
  const ClientTlsContext* tlsContext_ = nullptr;
  std::atomic<std::uint64_t>* tlsFailures_ = nullptr;
  UpstreamPool pool_;
  SlotWaits slotWaits_;
  WorkerUpstream upstream_;
  headers::RequestIdGenerator requestIds_;
  simdjson::ondemand::parser jsonParser_;
  bool draining_ = false;
  // The filters' per-worker services (a shared store's connection): after io_,
  // so that they go before it.
  std::vector<std::unique_ptr<WorkerService>> services_;
  std::thread thread_;
};

}  // namespace infergate
