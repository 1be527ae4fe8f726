#include "gateway/server/worker.hpp"

#include <boost/asio/socket_base.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "filters/core/log_line.hpp"
#include "gateway/http/downstream_session.hpp"
#include "gateway/http/message_writer.hpp"
#include "gateway/net/busy_poll.hpp"
#include "gateway/net/coarse_clock.hpp"
#include "gateway/net/local_errors.hpp"
#include "gateway/net/read_prefetch.hpp"
#include "gateway/net/readiness_watch.hpp"
#include "gateway/net/send_batch.hpp"

namespace infergate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
std::uint64_t seedFor(unsigned index) {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ index;
}

// A session and its shared_ptr control block (two counts, a vtable pointer
// and the slab allocator): SlabAllocator checks it fits.
constexpr std::size_t kSessionSlotBytes = sizeof(DownstreamSession) + 24;
using SessionAllocator = SlabAllocator<DownstreamSession, kSessionSlotBytes>;
}  // namespace

Worker::Worker(unsigned index, std::shared_ptr<const Runtime> runtime, ClusterState& cluster,
               const GenerationSlot& generations, const UpstreamStats& stats, const metrics::LabelSpace& labels)
    : sessionSlab_(kSessionSlotBytes),
      index_(index),
      runtime_(std::move(runtime)),
      cluster_(cluster),
      generations_(generations),
      generation_(generations.current()),
      labels_(labels),
      picker_(*runtime_, cluster, seedFor(index)),
      busyPollBudget_(runtime_->config.server.busy_poll_us),
      acceptor_(io_),
      tlsAcceptor_(io_),
      pool_(io_, *runtime_, &stats, index),
      slotWaits_(index, wakeup_),
      upstream_(index, runtime_->config.metrics.enabled, cluster, picker_, pool_, slotWaits_, stats, labels,
                seedFor(index + 1000)),
      requestIds_(seedFor(index)) {
  readiness_.attach(io_);
}

Worker::~Worker() {
  stop();
  join();
  services_.clear();  // the thread is gone: nothing else touches them
}

namespace {
// SO_REUSEPORT: every worker has its own accept queue; the kernel spreads
// connections across them, so no worker contends on a shared acceptor.
void listenShared(WorkerAcceptor& acceptor, const tcp::endpoint& endpoint) {
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "SO_REUSEPORT");
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}
}  // namespace

void Worker::listen(const tcp::endpoint& endpoint) { listenShared(acceptor_, endpoint); }

void Worker::listenTls(const tcp::endpoint& endpoint, const ClientTlsContext& context) {
  tlsContext_ = &context;
  listenShared(tlsAcceptor_, endpoint);
}

// The HTTPS listener: the same admission as the plain one, then a handshake.
void Worker::start() {
  accept();
  if (tlsContext_ != nullptr) acceptOn(tlsAcceptor_, true);
  wakeup_.listen([this](unsigned bits) { onWakeup(bits); });
  thread_ = std::thread([this] { runLoop(); });
}

void Worker::accept() { acceptOn(acceptor_, false); }

// One loop for both listeners: the same caps, the same back-off when
// descriptors run out; an HTTPS connection starts with its handshake.
void Worker::acceptOn(WorkerAcceptor& acceptor, bool tls) {
  auto& peer = tls ? acceptedTlsPeer_ : acceptedPeer_;
  acceptor.async_accept(peer, [this, &acceptor, &peer, tls](boost::system::error_code ec, WorkerSocket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      const auto client = peer.address();
      if (const auto why = connectionLimits_->admit(client); why != ConnectionLimits::Refusal::None)
        refuseConnection(socket, why, tls);
      else
        std::allocate_shared<DownstreamSession>(SessionAllocator(sessionSlab_), *this, std::move(socket), client,
                                                tls ? &tlsContext_->current() : nullptr)
            ->start();
    } else if (isLocalResourceError(ec)) {
      // Out of fds: back off briefly instead of spinning on accept; say so once a second at most.
      if (const auto now = coarseWallMilliseconds(); now - acceptFailureLoggedAtMs_ >= 1000) {
        log::write(log::Level::Warn, log::Fields().add("worker", index_), "accept failed: " + ec.message());
        acceptFailureLoggedAtMs_ = now;
      }
      auto timer = std::make_shared<WorkerTimer>(io_, std::chrono::milliseconds(50));
      timer->async_wait([this, timer, &acceptor, tls](boost::system::error_code) { acceptOn(acceptor, tls); });
      return;
    }
    acceptOn(acceptor, tls);
  });
}

void Worker::refuseConnection(WorkerSocket& socket, ConnectionLimits::Refusal why, bool tls) {
  boost::system::error_code ignored;
  // An HTTPS client has no TLS yet to read an answer in: it is closed.
  if (!tls) {
    auto reply = errorFor(FailureCause::Overloaded, "The gateway has too many connections (" +
                                                        std::string(ConnectionLimits::reasonName(why)) + "); retry later.");
    std::string out;
    writer::localReply(out, reply.status, {}, "application/json", openaiErrorBody(reply), true, 1);
    // A fresh socket's send buffer is empty: the reply fits without waiting.
    socket.non_blocking(true, ignored);
    socket.send(asio::buffer(out), 0, ignored);
    socket.shutdown(asio::socket_base::shutdown_both, ignored);
  }
  socket.close(ignored);
  ++refusalsUnlogged_;
  if (const auto now = coarseWallMilliseconds(); now - refusalsLoggedAtMs_ >= 1000) {
    log::writef(log::Level::Warn, log::Fields().add("worker", index_),
               "refused %u connection(s) over a cap (503 overloaded; on the HTTPS port, closed); the last by %.*s", refusalsUnlogged_,
               static_cast<int>(ConnectionLimits::reasonName(why).size()), ConnectionLimits::reasonName(why).data());
    refusalsLoggedAtMs_ = now;
    refusalsUnlogged_ = 0;
  }
}

// io_context::run(), except that a loaded worker polls for a while before it
// sleeps (gateway/net/busy_poll.hpp says when and why). On a worker, the
// sends its handlers ask for leave together, just before its next
// epoll_wait() (gateway/net/send_batch.hpp), and the reads that wait
// announces are made together just after it (gateway/net/read_prefetch.hpp),
// when it also tells the client connections watched without a read that they
// may be read (gateway/net/readiness_watch.hpp).
void Worker::runLoop() {
  using Clock = std::chrono::steady_clock;
  services_ = generation_->filters->startWorker(index_, io_);
  // Without io_uring (an old kernel, a container's seccomp profile) each
  // write is sent from its handler and each read is a recv(), as with the
  // option off; the first worker says so once.
  auto opened = [this](bool wanted, auto& ring, const char* option) {
    if (!wanted) return false;
    if (ring.open()) return true;
    if (index_ == 0)
      log::writef(log::Level::Warn, log::Fields().add("worker", index_),
                  "io_uring is not available (%s): server.%s has no effect", std::strerror(errno), option);
    return false;
  };
  SendBatch batch;
  SendBatch::Installed installed(opened(runtime_->config.server.batch_sends, batch, "batch_sends") ? &batch : nullptr);
  ReadPrefetch prefetch(io_);
  ReadPrefetch::Installed prefetchInstalled(
      opened(runtime_->config.server.batch_receives, prefetch, "batch_receives") ? &prefetch : nullptr);
  ReadinessWatch::Installed watchInstalled(&readiness_);
  BusyPollPolicy policy(busyPollBudget_);
  if (policy.budget().count() == 0) {
    io_.run();
    return;
  }
  while (!io_.stopped()) {
    if (io_.poll() > 0) continue;
    const bool polling = policy.pollBeforeSleep();
    if (polling) {
      bool ran = false;
      for (const auto until = Clock::now() + policy.budget(); !ran && Clock::now() < until && !io_.stopped();)
        ran = io_.poll() > 0;
      policy.polled(ran);
      if (ran) continue;
    }
    const auto sleptAt = Clock::now();
    io_.run_one();
    policy.slept(Clock::now() - sleptAt, polling);
  }
}

void Worker::drain() { wakeup_.raise(WorkerWakeup::kDrain); }

void Worker::cut() { wakeup_.raise(WorkerWakeup::kCut); }

void Worker::reload() { wakeup_.raise(WorkerWakeup::kReload); }

void Worker::stop() {
  if (thread_.joinable()) {
    wakeup_.raise(WorkerWakeup::kStop);
  } else {
    io_.stop();  // never started: no other thread runs io_
  }
}

void Worker::onWakeup(unsigned bits) {
  if (bits & WorkerWakeup::kStop) {
    io_.stop();
    return;
  }
  if (bits & WorkerWakeup::kSlotGranted) slotWaits_.resumeGranted();
  if ((bits & WorkerWakeup::kDrain) && !draining_) drainNow();
  if (bits & WorkerWakeup::kCut) cutNow();
  if (bits & WorkerWakeup::kReload) generation();
}

void Worker::adoptGeneration() {
  generation_ = generations_.current();
  // Idle connections to endpoints the new config removed close now; those
  // in use finish their request on the old config and are then closed.
  pool_.keepOnly(*generation_->runtime);
}

void Worker::drainNow() {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  tlsAcceptor_.close(ignored);
  pool_.closeAll();
  // Copy: onDrain may close a session, which unregisters it.
  std::vector<std::shared_ptr<DownstreamSession>> live;
  for (auto& s : sessions_) live.push_back(s.shared_from_this());
  for (auto& s : live) s->onDrain();
}

void Worker::cutNow() {
  std::vector<std::shared_ptr<DownstreamSession>> live;
  for (auto& s : sessions_) live.push_back(s.shared_from_this());
  for (auto& s : live) s->cutForDrain();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::registerSession(DownstreamSession& session) {
  sessionCount_.fetch_add(1, std::memory_order_relaxed);
  sessions_.push_back(session);
}

void Worker::unregisterSession(DownstreamSession& session) {
  session.unlink();
  sessionCount_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace infergate
