#pragma once
// Output sampling, decision and capture in one place: a request is sampled by
// rate (hash of its id) or because it is an anomaly; its answer is captured as
// it passes (a stream reassembled, a JSON body kept); at completion a sampled
// request, a failed one (always.errors) or one whose first token was slow
// (always.slow_first_token) is handed to the quality pipeline.
#include <cstdint>
#include <memory>
#include <string>

#include "filters/core/captured_output.hpp"
#include "filters/core/kept_capacity.hpp"
#include "filters/core/sse_tap.hpp"
#include "filters/core/text_script.hpp"
#include "filters/filter.hpp"
#include "filters/quality/sample_handoff.hpp"

namespace infergate::quality {

// A stream's tap and what it reassembles: made when a stream is first
// captured on the connection and kept for the next. Most streams are neither
// sampled nor timed for a slow first token, and each would carry these 290
// idle bytes for its whole life.
struct StreamCapture {
  SseTap tap;
  CapturedOutput capture;
};

// What a sample says of its request's facts (RequestFacts), which a stream
// gives back once its request is sent: copied when the request runs its chain.
struct PromptFacts {
  std::uint64_t maxTokens = 0;
  bool isJson = false;
  bool hasMaxTokens = false;
  bool jsonRequested = false;  // response_format json_object or json_schema
  Script script = Script::None;
};

struct SamplingState {
  std::uint8_t reason = 0;      // 0: not sampled at request time; else SampleReason + 1
  bool captureStream = false;   // the tap reassembles the answer into `stream->capture`
  bool slowSampled = false;     // sampled because its first token was slow
  bool firstTokenSeen = false;
  bool streamSeen = false;      // the tap read this request's stream (`stream` is made)
  bool captureJson = false;
  bool jsonCut = false;         // longer than the capture limit: `json` is its start
  std::unique_ptr<StreamCapture> stream;
  PromptFacts prompt;           // copied by onRequest: a stream's facts go once it is sent
  OnDemandBuffer json;          // a captured JSON answer (sampled requests only)
  void reset();
};

class SamplingFilter final : public StatefulFilter<SamplingState> {
 public:
  static constexpr std::size_t kJsonLimit = 4 * 1024 * 1024;

  // `config`: the sampling section of the config the filter is built for (a
  // reload's generation may change its decision keys); `threshold`: the
  // route's sampling rate (rateThreshold of its sample_rate, or of the section's rate).
  SamplingFilter(SampleHandoff& pipeline, const config::SamplingConfig& config, std::uint64_t threshold);
  std::string_view name() const override { return "sampling"; }
  std::uint8_t phases() const override { return kOnRequest | kOnResponseHeaders | kOnComplete; }
  FilterStatus onRequest(RequestContext& ctx) override;
  bool onResponseHeaders(RequestContext& ctx) override;
  void onResponseData(RequestContext& ctx, std::string_view piece) override;
  void onComplete(RequestContext& ctx) override;

 private:
  bool slow(const RequestContext& ctx, RequestRecord::Time firstToken) const;
  std::uint8_t reasonAtCompletion(RequestContext& ctx) const;
  void offerSample(RequestContext& ctx);

  SampleHandoff& pipeline_;
  const config::SamplingConfig& config_;
  std::uint64_t threshold_;
};

}  // namespace infergate::quality
