#pragma once
// One connection to the mock model server: keep-alive request loop, immediate
// or delayed answers, SSE streams paced by timers, and fault injection. While it
// delays, streams or hangs it keeps a read pending so it sees the client leave.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>
#include <mutex>
#include <string>

#include "batch_gate.hpp"
#include "gateway/net/gathered_write.hpp"
#include "mock_behaviour.hpp"
#include "mock_responses.hpp"
#include "mock_stats.hpp"

namespace mock {

struct ServerContext {
  // Defaults, changeable at run time through POST /debug/set (tests make one
  // endpoint of several fail, hang or turn unhealthy).
  Behaviour defaults;
  Behaviour initial;             // what the flags set, for resets
  unsigned healthStatus = 200;
  // At most --batch model requests are answered at once; the rest wait in
  // arrival order. GET /metrics (vLLM's names) reports the gate: requests
  // running, waiting, and KV-cache use as running / batch. A test overrides
  // each (-1: follow the real load) and the scrape's status through /debug/set.
  BatchGate gate;
  long signalRunning = -1, signalWaiting = -1, signalKvPermille = -1;
  unsigned metricsStatus = 200;
  std::mutex mutex;
  Behaviour currentDefaults() {
    std::lock_guard lock(mutex);
    return defaults;
  }
  Stats stats;
  bool record = false;  // keep the last request's head and body for /debug/stats
  bool deterministic = false;  // ids from the body hash, fixed `created`
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, ServerContext& context);
  ~Session();
  void start();

 private:
  void readRequest();
  void parseRequest();
  void handle();
  std::string applySettings(const std::string& target);
  std::string applySettingsLocked(const std::string& target, long& batch);
  void respond(unsigned status, std::string_view contentType, std::string body);
  void afterWrite(boost::system::error_code ec, bool keepAlive);
  void admitted();
  void answer();
  void delayed(unsigned ms, void (Session::*next)());
  void delayedUntil(std::chrono::steady_clock::time_point at, void (Session::*next)());
  void sendWhole();
  void startStream();
  void streamNext();
  void writeEvent(std::string event, bool last);
  void watchForClose();
  void finishResponse();
  void clientGone();
  void close();

  boost::asio::ip::tcp::socket socket_;
  ServerContext& context_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::asio::steady_timer timer_;
  std::string out_;
  infergate::GatheredWrite writer_;  // responses leave at once, completing inline
  std::string pendingBody_;
  std::string extraHeaders_;
  unsigned pendingStatus_ = 200;
  Behaviour behaviour_;
  RequestInfo info_;
  std::uint64_t id_ = 0;
  unsigned sentTokens_ = 0;
  // When the next content event is due: the first event's time plus one
  // interval per event, so a late event does not delay the ones after it.
  std::chrono::steady_clock::time_point nextTokenAt_{};
  bool keepAlive_ = true;
  bool watching_ = false;
  bool busy_ = false;        // a request is being answered
  bool closed_ = false;
  bool streamHeadSent_ = false;
  bool counted_ = false;
  bool working_ = false;  // a model request is being answered (stats.active counts it)
  enum class Gate { Out, Waiting, Running };
  Gate gate_ = Gate::Out;  // its place in the batch gate
  void beginWork();
  void endWork();
  std::string metricsBody();
};

}  // namespace mock
