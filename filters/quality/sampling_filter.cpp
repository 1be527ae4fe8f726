#include "filters/quality/sampling_filter.hpp"

#include "filters/core/kept_capacity.hpp"
#include "filters/quality/sampling.hpp"
#include "filters/quality/text_stats.hpp"

namespace infergate::quality {

namespace {
constexpr std::uint8_t encode(SampleReason r) { return static_cast<std::uint8_t>(r) + 1; }

double secondsBetween(RequestRecord::Time from, RequestRecord::Time to) {
  return std::chrono::duration<double>(to - from).count();
}

PromptFacts promptFactsOf(const RequestFacts& facts) {
  PromptFacts p;
  p.isJson = facts.isJson;
  p.hasMaxTokens = facts.hasMaxTokens;
  p.maxTokens = facts.maxTokens;
  p.jsonRequested = facts.responseFormat >= 2;
  p.script = dominantScript(facts.scriptLatin, facts.scriptCjk, facts.scriptCyrillic, facts.scriptArabic);
  return p;
}
}  // namespace

// Per request: the flags. The tap, capture and JSON copy are reset when an
// answer starts using them (a small share of requests).
void SamplingState::reset() {
  reason = 0;
  captureStream = slowSampled = firstTokenSeen = captureJson = jsonCut = false;
  streamSeen = false;
}

SamplingFilter::SamplingFilter(SampleHandoff& pipeline, const config::SamplingConfig& config, std::uint64_t threshold)
    : pipeline_(pipeline), config_(config), threshold_(threshold) {}

FilterStatus SamplingFilter::onRequest(RequestContext& ctx) {
  if (!ctx.jsonApi) return FilterStatus::Continue;
  auto& s = state(ctx);
  // What a sample reports of the prompt is copied now: a stream gives its
  // facts back once its request is sent (releaseFacts), seconds before its end.
  s.prompt = promptFactsOf(*ctx.facts);
  if (sampledAt(requestHash(ctx.requestId), threshold_)) s.reason = encode(SampleReason::Rate);
  else if (ctx.record->anomaly && config_.always_anomalies) s.reason = encode(SampleReason::Anomaly);
  return FilterStatus::Continue;
}

// sampling.always.slow_first_token: a first token (first byte when not
// streaming) at `firstToken` came later than the threshold after the request.
bool SamplingFilter::slow(const RequestContext& ctx, RequestRecord::Time firstToken) const {
  return config_.slow_first_token.count() > 0 && firstToken - ctx.record->bodyRead >= config_.slow_first_token;
}

bool SamplingFilter::onResponseHeaders(RequestContext& ctx) {
  if (!ctx.jsonApi) return false;
  auto& s = state(ctx);
  const auto& response = ctx.response;
  const bool sampled = s.reason != 0;
  if (response.eventStream && (sampled || config_.slow_first_token.count() > 0)) {
    // Captured whole when sampled; otherwise only until the first token says
    // whether it was slow.
    if (!s.stream) s.stream = std::make_unique<StreamCapture>();
    auto& c = *s.stream;
    c.tap.reset();
    c.capture.clear();
    s.streamSeen = true;
    c.capture.capBytes = config_.capture_bytes;
    c.tap.setCapture(&c.capture);
    s.captureStream = true;
  }
  // Not streaming: the first token is the answer's first byte (as for the
  // breaker's slow_first_token), so whether it was slow is known now.
  if (!response.eventStream && !sampled && slow(ctx, ctx.record->firstByte)) s.slowSampled = true;
  s.captureJson = !response.eventStream && response.hasBody && response.json &&
                  (sampled || s.slowSampled || (config_.always_errors && response.status >= 400));
  if (s.captureJson) s.json.fresh();
  return s.captureStream || s.captureJson;
}

void SamplingFilter::onResponseData(RequestContext& ctx, std::string_view piece) {
  auto& s = state(ctx);
  if (s.captureStream) {
    auto& tap = s.stream->tap;
    tap.feed(piece, *ctx.json, [&] {
      if (s.reason != 0 || s.slowSampled || s.firstTokenSeen) return;
      s.firstTokenSeen = true;
      // The first token: captured only in case it was slow, now we know.
      if (slow(ctx, ctx.pieceArrived)) {
        s.slowSampled = true;
      } else {
        tap.setCapture(nullptr);
        s.captureStream = false;
      }
    });
    // Not sampled after all: the tap is not fed again, and a stream that lasts
    // minutes keeps none of its buffers (after feed, which reads them).
    if (!s.captureStream) tap.releaseBuffers();
  } else if (s.captureJson) {
    if (s.json.size() + piece.size() <= kJsonLimit) {
      s.json->append(piece);
    } else {
      s.captureJson = false;
      s.jsonCut = true;
    }
  }
}

std::uint8_t SamplingFilter::reasonAtCompletion(RequestContext& ctx) const {
  auto& s = state(ctx);
  const auto& r = *ctx.record;
  const bool failed = r.status >= 400 || (r.cause != FailureCause::None && r.cause != FailureCause::ClientDisconnect);
  if (s.reason != 0) return s.reason;
  if (config_.always_errors && failed) return encode(SampleReason::Error);
  if (s.slowSampled) return encode(SampleReason::SlowFirstToken);
  return 0;
}

void SamplingFilter::onComplete(RequestContext& ctx) {
  offerSample(ctx);
  // What was captured went with the sample, or is not needed: a long answer
  // does not stay with the connection.
  auto& s = state(ctx);
  s.json.releaseIfLarge();  // cleared when the next capture starts
  if (s.streamSeen) {
    releaseIfLarge(s.stream->capture.text);
    releaseIfLarge(s.stream->capture.toolCalls);
    s.stream->tap.releaseBuffers();  // an event cut by the answer's end
  }
}

void SamplingFilter::offerSample(RequestContext& ctx) {
  const auto& r = *ctx.record;
  if (!ctx.jsonApi || !r.routed) return;
  auto& s = state(ctx);
  // A stream's facts went once its request was sent (releaseFacts): copied
  // by onRequest. A request refused before onRequest ran still has them.
  if (!(ctx.facts != nullptr ? ctx.facts->isJson : s.prompt.isJson)) return;
  const auto reason = reasonAtCompletion(ctx);
  if (reason == 0 || !pipeline_.admit()) return;

  // Everything below runs for sampled requests only (1% by default).
  const PromptFacts prompt = ctx.facts != nullptr ? promptFactsOf(*ctx.facts) : s.prompt;
  auto sample = std::make_unique<OutputSample>();
  sample->requestId = ctx.requestId;
  sample->wallStartMs = r.wallStartMs;
  sample->route = r.route;
  sample->key = r.key;
  sample->backend = r.backend;
  sample->model = r.model;
  sample->reason = static_cast<SampleReason>(reason - 1);
  sample->status = r.status;
  sample->cause = r.cause;
  sample->stream = r.stream;
  sample->totalSeconds = secondsBetween(r.accepted, r.done);
  if (RequestRecord::set(r.firstToken) && RequestRecord::set(r.bodyRead))
    sample->firstTokenSeconds = secondsBetween(r.bodyRead, r.firstToken);
  sample->requestBody = ctx.body->view();
  if (sample->stream) {
    if (s.captureStream) sample->streamOutput = std::move(s.stream->capture);
    bool tapSawEnd = false;
    if (s.streamSeen) {
      const auto& seen = s.stream->tap.observation();
      tapSawEnd = seen.done || seen.finished;
    }
    sample->streamFinished = r.streamFinished || tapSawEnd;
  } else if (s.captureJson || s.jsonCut) {
    sample->responseBody = std::move(*s.json);
    sample->responseCut = s.jsonCut;
  }
  if (r.hasUsage) {
    sample->promptTokens = r.promptTokens;
    sample->completionTokens = r.completionTokens;
  }
  if (prompt.hasMaxTokens) sample->maxTokens = prompt.maxTokens;
  sample->jsonRequested = prompt.jsonRequested;
  sample->promptScript = prompt.script;
  pipeline_.offer(std::move(sample));
}

}  // namespace infergate::quality
