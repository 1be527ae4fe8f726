#pragma once
// What an UpstreamExchange needs of the client side, and all it may touch: the
// socket it relays the answer to, the owner's lifetime for pending
// operations, the watch for a client leaving, and the report of how it ended.
#include <memory>

#include "filters/core/errors.hpp"
#include "gateway/net/worker_io.hpp"

namespace infergate {

struct ExchangeOutcome {
  unsigned retryAfterSeconds = 0;  // for 503 circuit_open / overloaded
  FailureCause cause = FailureCause::None;
  bool responseStarted = false;    // response bytes reached the client
  bool closeDownstream = false;    // the client connection cannot carry another request
  unsigned status = 0;             // upstream status, if a response head arrived
};

class DownstreamPort {
 public:
  virtual ~DownstreamPort() = default;
  virtual WorkerSocket& clientSocket() = 0;
  // The client's TLS over clientSocket() (HTTPS listener), or null.
  virtual ClientTlsStream* clientTls() { return nullptr; }
  // Kept by each pending operation so that the owner outlives it.
  virtual std::shared_ptr<void> keepAlive() = 0;
  // Starts noticing a client that closes its connection while the answer is awaited.
  virtual void watchClient() = 0;
  // A stream's request is sent (or an answer turns out to be a stream): the
  // exchange keeps what a retry needs of its head as text, so the parsed head
  // need not be kept for the stream's life
  // (the context's `message` is null after this; its `body` stays, moved
  // where the context points, for retries and samples).
  virtual void releaseRequest() {}
  // Likewise the facts read from its request's body: they are not read again
  // (filters that report them copied them when the request ran its chain,
  // and a retry does not parse the request again), so they go before the
  // first token, which may be seconds away (the context's `facts` is null after this).
  virtual void releaseFacts() {}
  virtual void onExchangeFinished(const ExchangeOutcome& outcome) = 0;
};

}  // namespace infergate
