#pragma once
// Relays one request to an upstream endpoint and its response back to the
// client, piece by piece as it arrives (never buffering a whole response body).
// Owned by a DownstreamSession and reused for every request on it, so its
// buffers keep their capacity and a steady request costs no allocation here.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <boost/asio/buffer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>

#include "gateway/net/worker_io.hpp"
#include "filters/core/block_cache.hpp"
#include "gateway/upstream/body_edits.hpp"
#include "gateway/net/gathered_write.hpp"
#include "filters/core/http_messages.hpp"
#include "filters/validation/input_limits.hpp"
#include "gateway/upstream/endpoint_picker.hpp"
#include "filters/core/errors.hpp"
#include "gateway/net/lazy_deadline.hpp"
#include "gateway/http/message_writer.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/core/request_record.hpp"
#include "filters/core/sse_tap.hpp"
#include "gateway/server/runtime.hpp"
#include "gateway/upstream/upstream_pool.hpp"

namespace infergate {

class DownstreamSession;

// Everything the relay needs about the request; valid until the relay finishes.
struct ProxyRequest {
  ProxyRequestMessage* message = nullptr;
  const config::RouteConfig* route = nullptr;
  const BackendRuntime* backend = nullptr;
  const RequestFacts* facts = nullptr;
  std::string_view requestId;
  std::string_view clientAddress;
  bool isHead = false;
  bool clientHttp10 = false;
  bool keepAlive = true;  // the client allows keep-alive and the gateway is not draining
  TokenLimitRewrite tokenLimits;       // clamp or insert max_tokens (the route's cap)
  bool sample = false;                 // output sampled: reassemble a streamed answer
  bool sampleErrors = false;           // error replies are sampled: keep their bodies
  std::chrono::milliseconds slowFirstToken{0};  // > 0: capture streams until the first token decides
  std::size_t captureBytes = 0;
};

struct RelayOutcome {
  unsigned retryAfterSeconds = 0;   // for 503 circuit_open / overloaded
  FailureCause cause = FailureCause::None;
  bool responseStarted = false;   // response bytes reached the client
  bool closeDownstream = false;   // the client connection cannot carry another request
  unsigned status = 0;            // upstream status, if a response head arrived
};

class Relay {
 public:
  using Clock = LazyDeadline::Clock;
  static constexpr std::size_t kBufferSize = 32 * 1024;  // response body bytes relayed per write

  explicit Relay(DownstreamSession& session);
  void start(const ProxyRequest& request);
  // The client went away: stop reading upstream and close that connection now.
  void abortClientGone();
  bool active() const { return active_; }
  // Drops the pending timer wait (which holds the session alive); on close.
  void cancelTimer();
  // Between requests: gives the relay buffer back to the thread's BlockCache.
  // A no-op while the relay is active or has an operation pending.
  void releaseBuffers();

  // After finish, for output sampling (valid until the next start).
  bool streamed() const { return eventStream_; }
  // The reassembled stream, when it was captured (sampled, or slow first token).
  quality::CapturedOutput* streamCapture() { return captureStream_ ? &capture_ : nullptr; }
  bool streamFinished() const { return sseTap_.observation().done || !sseTap_.observation().finishReason.empty(); }
  bool slowFirstTokenSampled() const { return slowSampled_; }
  const std::string& jsonBody() const { return jsonBody_; }
  bool jsonBodyCut() const { return jsonCut_; }  // longer than the capture limit: jsonBody() is its start

 private:
  enum class Pending { None, Upstream, Downstream, Timer };
  bool slowForSampling(Clock::time_point firstToken) const;
  enum class Verdict { Success, Failure, Neutral };

  void nextAttempt();
  void startAttempt(std::size_t backend, const Pick& pick);
  void endAttempt(Verdict verdict, FailureCause cause = FailureCause::None);
  Verdict verdictFor(FailureCause cause) const;
  bool retryable(FailureCause cause) const;
  bool sameFailureElsewhere(FailureCause cause) const;
  void settleHeldVerdicts();
  bool canRetry() const;
  bool hasAlternative() const;
  bool retryOnStatus();
  void retryAfterFailure(FailureCause reason, std::chrono::milliseconds retryAfter);
  bool holdBackendSlot(std::size_t backend);
  void releaseBackendSlot();
  bool waitForSlot();
  void leaveQueue();
  void waitThen(std::chrono::milliseconds delay, std::function<void()> next);
  const config::BackendConfig& backendConfig() const;
  std::size_t backendAt(std::size_t cursor) const;
  unsigned circuitRetryAfterSeconds() const;

  void acquireConnection();
  void connect();
  void onConnected(unsigned epoch, boost::system::error_code ec);
  void sendRequest();
  void onRequestSent(unsigned epoch, boost::system::error_code ec);
  void readUpstream();
  void onUpstreamRead(unsigned epoch, boost::system::error_code ec, std::size_t bytes);
  void parseUpstream();
  void onResponseHeader();
  void writeDownstream();
  void onDownstreamWritten(unsigned epoch, boost::system::error_code ec);
  void writeStreamError(FailureCause cause);
  void onDeadline();
  void fail(FailureCause cause);
  bool retryOnFreshConnection();
  void finish(FailureCause cause, bool closeDownstream);
  void closeUpstream();
  void setPhaseDeadline(std::chrono::milliseconds d, FailureCause cause);
  void observeBody(std::size_t from, std::size_t to);
  void takeConnection(std::unique_ptr<UpstreamConnection> conn);
  void dropConnection();
  void buildServerTiming();
  LazyDeadline::Clock::time_point nextDeadline() const;

  DownstreamSession& session_;
  LazyDeadline deadline_;
  ProxyRequest request_;
  const EndpointRuntime* endpoint_ = nullptr;
  std::unique_ptr<UpstreamConnection> conn_;
  bool reusedConnection_ = false;
  bool retriedStale_ = false;
  std::optional<ProxyResponseParser> parser_;

  std::string upstreamHead_;
  std::string downstreamHead_;
  BodyEdits edits_;  // usage injection, model rename, token cap
  std::array<boost::asio::const_buffer, 2 + 2 * BodyEdits::kMaxSplices> writeBuffers_;  // head, body pieces and edits
  RequestRecord* record_ = nullptr;
  SseTap sseTap_;
  std::string jsonBody_;          // a non-streaming JSON body, kept (up to a cap) to read its usage
  bool jsonCut_ = false;
  bool captureJson_ = false;
  quality::CapturedOutput capture_;  // a sampled stream's answer
  bool captureStream_ = false;
  bool slowSampled_ = false;
  bool observe_ = true;           // metrics or the access log want body observations
  bool observeBody_ = false;      // this response's body is read (observe_, or output sampling)
  std::string serverTiming_;
  Clock::time_point readAt_{};    // when the bytes being parsed arrived
  std::uint64_t bytesWritten_ = 0;
  std::uint64_t pendingWriteBytes_ = 0;
  std::string streamError_;
  // Held while a response is relayed; back to the thread's BlockCache between requests.
  std::unique_ptr<char[], CachedBlockDeleter<kBufferSize>> relayBuffer_;
  std::size_t relayUsed_ = 0;
  char chunkPrefix_[24];
  GatheredWrite gatheredWrite_;

  LazyDeadline::Clock::time_point totalDeadline_{};
  LazyDeadline::Clock::time_point phaseDeadline_{};
  LazyDeadline::Clock::time_point monitorAt_{};  // when to start watching the client
  FailureCause phaseCause_ = FailureCause::None;
  FailureCause failure_ = FailureCause::None;   // set when aborting; handlers route to fail()
  Pending pending_ = Pending::None;
  writer::BodyFraming framing_ = writer::BodyFraming::ContentLength;
  bool headerSent_ = false;
  bool headerReady_ = false;
  bool eventStream_ = false;
  bool lastWrite_ = false;
  bool responseBytesSeen_ = false;
  bool active_ = false;
  unsigned epoch_ = 0;

  // Attempts: endpoints tried, the backend in use (route backend, then fallbacks).
  std::size_t backendIndex_ = 0;
  std::size_t backendCursor_ = 0;
  std::int64_t backendSlot_ = -1;   // backend whose max_in_flight slot this request holds
  unsigned attempt_ = 0;
  std::vector<char> tried_;         // by endpoint id
  CircuitBreaker::Admission admission_;
  bool admissionOpen_ = false;
  FailureCause lastCause_ = FailureCause::None;
  // Failures that may be the request's doing (a reset, a 5xx, a first-token
  // timeout) are judged when the request ends: the same failure on two
  // endpoints is the request's, and counts against neither (Envoy keeps such
  // upstream-origin failures apart from local-origin ones, e.g. connect errors).
  struct HeldVerdict {
    std::size_t endpointId;
    std::size_t backend;
    CircuitBreaker::Admission admission;
    FailureCause cause;
  };
  std::array<HeldVerdict, 4> held_{};
  std::size_t heldCount_ = 0;
  std::optional<std::size_t> contentLength_;
  bool queued_ = false;
  Clock::time_point queueDeadline_{};
  WorkerTimer backoffTimer_;
  std::function<void()> waitNext_;
};

}  // namespace infergate
