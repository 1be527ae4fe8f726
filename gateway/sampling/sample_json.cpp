#include "gateway/sampling/sample_json.hpp"

#include <charconv>

#include "filters/quality/text_stats.hpp"

namespace infergate {

std::string_view judgeResultName(JudgeResult r) {
  static constexpr std::string_view kNames[] = {"none",    "pending",      "ok",     "parse_error",
                                                "timeout", "error", "circuit_open", "dropped"};
  return kNames[static_cast<std::size_t>(r)];
}

namespace {

void appendNumber(std::string& out, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
  out.append(buf, r.ptr);
}

void appendUnsigned(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void key(std::string& out, std::string_view name) {
  if (out.back() != '{') out.push_back(',');
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

void text(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  appendJsonString(out, quality::validUtf8(value));
}

void optionalCount(std::string& out, std::string_view name, const std::optional<std::uint64_t>& v) {
  key(out, name);
  if (v) appendUnsigned(out, *v);
  else out.append("null");
}

}  // namespace

void appendSampleJson(std::string& out, const StoredSample& s, const metrics::LabelSpace& labels) {
  out.push_back('{');
  text(out, "request_id", s.requestId);
  key(out, "time_ms");
  appendUnsigned(out, static_cast<std::uint64_t>(s.wallStartMs));
  text(out, "route", labels.route(s.route));
  text(out, "backend", labels.backend(s.backend));
  text(out, "model", labels.model(s.model));
  if (s.key != 0) text(out, "key", labels.key(s.key));  // its name from config, never the key
  text(out, "reason", quality::sampleReasonName(s.reason));
  key(out, "status");
  appendUnsigned(out, s.status);
  if (s.cause != FailureCause::None) text(out, "cause", causeName(s.cause));
  // How the answer ended: "complete", "abandoned" (the client left: not
  // scored) or "failed" (a failure cut it or replaced it).
  text(out, "ended", s.abandoned ? "abandoned" : s.cause == FailureCause::None ? "complete" : "failed");
  key(out, "stream");
  out.append(s.stream ? "true" : "false");
  key(out, "timings");
  out.append("{\"total_seconds\":");
  appendNumber(out, s.totalSeconds);
  if (s.firstTokenSeconds >= 0) {
    out.append(",\"first_token_seconds\":");
    appendNumber(out, s.firstTokenSeconds);
  }
  out.push_back('}');
  optionalCount(out, "prompt_tokens", s.promptTokens);
  optionalCount(out, "completion_tokens", s.completionTokens);
  optionalCount(out, "max_tokens", s.maxTokens);
  if (s.promptHashed) text(out, "prompt_hash", s.prompt);
  else text(out, "prompt", s.prompt);
  text(out, "answer", s.answer);
  if (!s.toolCalls.empty()) text(out, "tool_calls", s.toolCalls);
  text(out, "finish_reason", s.finishReason);
  key(out, "answer_cut");
  out.append(s.answerCut ? "true" : "false");
  key(out, "quality_score");
  if (s.scored) appendNumber(out, s.report.score);
  else out.append("null");
  key(out, "flags");
  out.push_back('[');
  bool first = true;
  for (std::size_t f = 0; f < quality::kFlagCount; ++f) {
    if (!s.report.has(static_cast<quality::OutputFlag>(f))) continue;
    if (!first) out.push_back(',');
    first = false;
    appendJsonString(out, quality::kFlagNames[f]);
  }
  out.push_back(']');
  key(out, "scores");
  out.push_back('{');
  for (std::size_t f = 0; f < quality::kFlagCount; ++f) {
    if (f > 0) out.push_back(',');
    appendJsonString(out, quality::kFlagNames[f]);
    out.push_back(':');
    appendNumber(out, s.report.scores[f]);
  }
  out.push_back('}');
  if (s.report.compressionRatio > 0) {
    key(out, "compression_ratio");
    appendNumber(out, s.report.compressionRatio);
  }
  key(out, "repetition_ratio");
  appendNumber(out, s.report.repetitionRatio);
  text(out, "answer_script", quality::scriptName(s.report.answerScript));
  key(out, "judge");
  out.append("{\"result\":");
  appendJsonString(out, judgeResultName(s.judge));
  if (s.judge == JudgeResult::Ok) {
    out.append(",\"score\":");
    appendUnsigned(out, static_cast<std::uint64_t>(s.judgeScore));
  }
  out.push_back('}');
  if (s.humanBad) text(out, "feedback", *s.humanBad ? "bad" : "good");
  out.push_back('}');
}

}  // namespace infergate
