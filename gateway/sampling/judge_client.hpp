#pragma once
// Sends sampled prompt/answer pairs to an LLM judge: a configured backend
// (OpenAI-compatible chat completions) reached with infergate's own upstream
// pieces (the backend's endpoints and injected headers, a circuit breaker per
// endpoint built from the backend's breaker settings) and a concurrency cap of
// its own. Runs on the quality pipeline's thread; never on a worker.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "gateway/upstream/circuit_breaker.hpp"
#include "filters/quality/output_sample.hpp"
#include "gateway/server/runtime.hpp"

namespace infergate {

class JudgeClient {
 public:
  using Done = std::function<void(JudgeResult result, int score)>;

  JudgeClient(boost::asio::io_context& io, const config::JudgeConfig& config, const BackendRuntime& backend);
  ~JudgeClient();

  // Asks for a score; `done` runs once on the io thread. Over the concurrency
  // cap, or with every endpoint's breaker open, it runs at once (Dropped, CircuitOpen).
  void ask(const std::string& prompt, const std::string& answer, Done done);
  unsigned inFlight() const { return inFlight_; }
  // The request body sent to the judge (exposed for tests).
  std::string requestBody(const std::string& prompt, const std::string& answer) const;

 private:
  struct Call;
  void finish(const std::shared_ptr<Call>& call, JudgeResult result, int score, bool endpointFailed);

  boost::asio::io_context& io_;
  config::JudgeConfig config_;
  const BackendRuntime& backend_;
  EjectionBudget budget_;
  std::vector<std::unique_ptr<CircuitBreaker>> breakers_;
  std::size_t next_ = 0;
  unsigned inFlight_ = 0;
};

}  // namespace infergate
