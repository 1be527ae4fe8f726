#pragma once
// Sends sampled prompt/answer pairs to an LLM judge: a configured backend
// (OpenAI-compatible chat completions) reached through an UpstreamClient, the
// same picker, breakers and pool as client traffic to that backend, with a
// concurrency cap of its own. Runs on the quality pipeline's thread; never on
// a worker.
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "filters/quality/output_sample.hpp"
#include "gateway/upstream/upstream_client.hpp"

namespace infergate {

class JudgeClient {
 public:
  using Done = std::function<void(JudgeResult result, int score)>;

  // `client` runs on the thread that calls ask(); it outlives this object.
  JudgeClient(const config::JudgeConfig& config, UpstreamClient& client) : config_(config), client_(client) {}

  // Asks for a score; `done` runs once on the client's thread. Over the
  // concurrency cap, or with every endpoint's breaker open, it runs at once
  // (Dropped, CircuitOpen).
  void ask(const std::string& prompt, const std::string& answer, Done done);
  unsigned inFlight() const { return inFlight_; }
  // The request body sent to the judge.
  static std::string requestBody(const config::JudgeConfig& config, const std::string& prompt,
                                 const std::string& answer);

 private:
  void answered(const UpstreamClient::Response& response, const Done& done);

  config::JudgeConfig config_;
  UpstreamClient& client_;
  unsigned inFlight_ = 0;
};

}  // namespace infergate
