#include "filters/quality/feedback_filter.hpp"

#include <optional>

#include "filters/auth/authenticate.hpp"

namespace infergate::quality {

namespace {
struct FeedbackBody {
  std::string requestId;
  std::optional<bool> bad;
};

ErrorReply invalid(std::string message, std::string_view param) {
  auto reply = errorFor(FailureCause::ClientInvalidRequest, std::move(message));
  reply.code = "invalid_feedback";
  reply.param = param;
  return reply;
}

// Reads the body; an error reply when it is not a valid feedback object.
std::optional<ErrorReply> readFeedback(simdjson::ondemand::parser& parser, simdjson::padded_string_view body,
                                       FeedbackBody& out) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(body).get(doc) || doc.get_object().get(object))
    return invalid("feedback body must be a JSON object", "");
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return invalid("feedback body is not valid JSON", "");
    if (key == "request_id") {
      std::string_view id;
      if (field.value().get_string().get(id) || id.empty() || id.size() > 200)
        return invalid("request_id must be a non-empty string", "request_id");
      out.requestId.assign(id);
    } else if (key == "label") {
      std::string_view label;
      if (field.value().get_string().get(label) || (label != "good" && label != "bad"))
        return invalid("label must be \"good\" or \"bad\"", "label");
      out.bad = label == "bad";
    } else if (key == "score") {
      double score;
      if (field.value().get_double().get(score) || !(score >= 0 && score <= 1))
        return invalid("score must be a number between 0 and 1", "score");
      out.bad = score < 0.5;
    } else {
      simdjson::ondemand::value ignored;
      if (field.value().get(ignored)) return invalid("feedback body is not valid JSON", "");
    }
  }
  if (out.requestId.empty()) return invalid("request_id is required", "request_id");
  if (!out.bad) return invalid("label (good or bad) or score (0 to 1) is required", "label");
  return std::nullopt;
}
}  // namespace

FeedbackFilter::FeedbackFilter(SampleHandoff& pipeline, std::uint32_t routeLabel, const auth::KeyDirectory* keys)
    : pipeline_(pipeline), routeLabel_(routeLabel), keys_(keys) {}

FilterStatus FeedbackFilter::onRequest(RequestContext& ctx) {
  if (ctx.path != kPath) return FilterStatus::Continue;
  ctx.record->route = routeLabel_;
  // Nobody may skew the scorers' precision with anonymous labels.
  std::optional<std::uint32_t> key;
  if (keys_) {
    const auto& keys = keys_->current(ctx.worker);
    auto verdict = auth::authenticate(ctx.message->base(), keys.table, keys.keys);
    if (!verdict.key) return ctx.fail(errorFor(FailureCause::ClientUnauthorized, std::move(verdict.refusal)));
    key = keys.place[*verdict.key];
    ctx.record->key = *key;
  }
  if (ctx.message->method() != boost::beast::http::verb::post) {
    auto reply = errorFor(FailureCause::ClientInvalidRequest,
                          "Method " + std::string(ctx.message->method_string()) + " is not allowed on this path.");
    reply.status = 405;
    reply.code = "method_not_allowed";
    reply.allow = "POST";
    return ctx.fail(std::move(reply));
  }
  FeedbackBody feedback;
  if (auto error = readFeedback(*ctx.json, ctx.message->body().padded(), feedback)) return ctx.fail(std::move(*error));
  if (!pipeline_.feedback(feedback.requestId, *feedback.bad, key)) {
    ErrorReply reply;
    reply.status = 404;
    reply.type = "invalid_request_error";
    reply.code = "unknown_request_id";
    reply.param = "request_id";
    reply.message = "no sampled request with this request_id (only sampled requests accept feedback)";
    reply.cause = FailureCause::ClientInvalidRequest;
    return ctx.fail(std::move(reply));
  }
  std::string answer = "{\"request_id\":";
  appendJsonString(answer, feedback.requestId);
  answer += *feedback.bad ? ",\"label\":\"bad\",\"recorded\":true}" : ",\"label\":\"good\",\"recorded\":true}";
  return ctx.answer(200, std::move(answer));
}

}  // namespace infergate::quality
