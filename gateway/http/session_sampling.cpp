// The session's side of output sampling: handing a sampled exchange to the
// quality pipeline when a request completes, and POST /v1/feedback.
#include <simdjson.h>

#include "filters/quality/text_stats.hpp"
#include "gateway/http/downstream_session.hpp"
#include "gateway/sampling/quality_pipeline.hpp"
#include "gateway/server/worker.hpp"

namespace infergate {

namespace {
double secondsBetween(RequestRecord::Time from, RequestRecord::Time to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

void DownstreamSession::offerSample() {
  auto& pipeline = *worker_.quality();
  const auto& config = pipeline.config();
  using quality::SampleReason;
  const auto& r = record_;
  const bool failed =
      r.status >= 400 || (r.cause != FailureCause::None && r.cause != FailureCause::ClientDisconnect);
  SampleReason reason;
  if (sampleReason_ != 0) reason = static_cast<SampleReason>(sampleReason_ - 1);
  else if (config.always_errors && failed) reason = SampleReason::Error;
  else if (relay_.slowFirstTokenSampled()) reason = SampleReason::SlowFirstToken;
  else return;
  if (!pipeline.admit()) return;

  // Everything below runs for sampled requests only (1% by default).
  auto s = std::make_unique<OutputSample>();
  s->requestId = requestId_;
  s->wallStartMs = r.wallStartMs;
  s->route = r.route;
  s->backend = r.backend;
  s->model = r.model;
  s->reason = reason;
  s->status = r.status;
  s->cause = r.cause;
  s->stream = relay_.streamed();
  s->totalSeconds = secondsBetween(r.accepted, r.done);
  if (RequestRecord::set(r.firstToken) && RequestRecord::set(r.bodyRead))
    s->firstTokenSeconds = secondsBetween(r.bodyRead, r.firstToken);
  if (parser_) s->requestBody = parser_->get().body();
  if (s->stream) {
    if (auto* capture = relay_.streamCapture()) s->streamOutput = std::move(*capture);
    s->streamFinished = relay_.streamFinished();
  } else {
    s->responseBody = relay_.jsonBody();
    s->responseCut = relay_.jsonBodyCut();
  }
  if (r.hasUsage) {
    s->promptTokens = r.promptTokens;
    s->completionTokens = r.completionTokens;
  }
  if (facts_.hasMaxTokens) s->maxTokens = facts_.maxTokens;
  s->jsonRequested = facts_.responseFormat >= 2;
  s->promptScript = quality::dominantScript(facts_.scriptLatin, facts_.scriptCjk, facts_.scriptCyrillic,
                                            facts_.scriptArabic);
  pipeline.offer(std::move(s));
}

// POST /v1/feedback {"request_id": "...", "label": "good" | "bad"} or
// {"request_id": "...", "score": 0..1} (below 0.5 is bad).
void DownstreamSession::handleFeedback() {
  const auto& body = parser_->get().body();
  auto invalid = [this](std::string message, std::string_view param) {
    auto reply = errorFor(FailureCause::ClientInvalidRequest, std::move(message));
    reply.code = "invalid_feedback";
    reply.param = param;
    replyError(std::move(reply), !keepAlive_);
  };
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (worker_.jsonParser().iterate(padded).get(doc) || doc.get_object().get(object))
    return invalid("feedback body must be a JSON object", "");
  std::string requestId;
  std::optional<bool> bad;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return invalid("feedback body is not valid JSON", "");
    if (key == "request_id") {
      std::string_view id;
      if (field.value().get_string().get(id) || id.empty() || id.size() > 200)
        return invalid("request_id must be a non-empty string", "request_id");
      requestId.assign(id);
    } else if (key == "label") {
      std::string_view label;
      if (field.value().get_string().get(label) || (label != "good" && label != "bad"))
        return invalid("label must be \"good\" or \"bad\"", "label");
      bad = label == "bad";
    } else if (key == "score") {
      double score;
      if (field.value().get_double().get(score) || !(score >= 0 && score <= 1))
        return invalid("score must be a number between 0 and 1", "score");
      bad = score < 0.5;
    } else {
      simdjson::ondemand::value ignored;
      if (field.value().get(ignored)) return invalid("feedback body is not valid JSON", "");
    }
  }
  if (requestId.empty()) return invalid("request_id is required", "request_id");
  if (!bad) return invalid("label (good or bad) or score (0 to 1) is required", "label");
  if (!worker_.quality()->feedback(requestId, *bad)) {
    ErrorReply reply;
    reply.status = 404;
    reply.type = "invalid_request_error";
    reply.code = "unknown_request_id";
    reply.param = "request_id";
    reply.message = "no sampled request with this request_id (only sampled requests accept feedback)";
    reply.cause = FailureCause::ClientInvalidRequest;
    replyError(std::move(reply), !keepAlive_);
    return;
  }
  std::string answer = "{\"request_id\":";
  appendJsonString(answer, requestId);
  answer += *bad ? ",\"label\":\"bad\",\"recorded\":true}" : ",\"label\":\"good\",\"recorded\":true}";
  replyLocal(200, std::move(answer), !keepAlive_);
}

}  // namespace infergate
