#include "gateway/sampling/judge_client.hpp"

#include <simdjson.h>

#include "filters/quality/judge_score.hpp"

namespace infergate {

namespace {
constexpr std::size_t kMaxJudgeResponse = 1 << 20;

// The first choice's message content, if the answer has one.
std::optional<std::string_view> answerContent(simdjson::ondemand::parser& parser, const simdjson::padded_string& body) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::array choices;
  if (parser.iterate(body).get(doc) || doc.find_field_unordered("choices").get_array().get(choices)) return {};
  for (auto choice : choices) {
    simdjson::ondemand::object message;
    std::string_view content;
    if (!choice.find_field_unordered("message").get_object().get(message) &&
        !message.find_field_unordered("content").get_string().get(content))
      return content;
    break;
  }
  return {};
}
}  // namespace

std::string JudgeClient::requestBody(const config::JudgeConfig& config, const std::string& prompt,
                                     const std::string& answer) {
  std::string user = "Prompt:\n<<<\n" + prompt + "\n>>>\n\nAnswer:\n<<<\n" + answer + "\n>>>";
  std::string body = "{\"model\":";
  appendJsonString(body, config.model);
  body += ",\"temperature\":0,\"stream\":false,\"max_tokens\":" + std::to_string(config.max_tokens);
  body += ",\"messages\":[{\"role\":\"system\",\"content\":";
  appendJsonString(body, config.rubric);
  body += "},{\"role\":\"user\",\"content\":";
  appendJsonString(body, user);
  body += "}]}";
  return body;
}

void JudgeClient::ask(const std::string& prompt, const std::string& answer, Done done) {
  if (inFlight_ >= config_.max_concurrency) {
    done(JudgeResult::Dropped, 0);
    return;
  }
  ++inFlight_;
  UpstreamClient::Request request;
  request.method = boost::beast::http::verb::post;
  request.target = "/v1/chat/completions";
  request.body = requestBody(config_, prompt, answer);
  request.userAgent = "infergate-judge";
  request.timeout = config_.timeout;
  request.maxResponseBytes = kMaxJudgeResponse;
  client_.send(config_.backend_index, std::move(request), [this, done = std::move(done)](UpstreamClient::Response r) {
    --inFlight_;
    answered(r, done);
  });
}

void JudgeClient::answered(const UpstreamClient::Response& response, const Done& done) {
  using Outcome = UpstreamClient::Response::Outcome;
  switch (response.outcome) {
    case Outcome::CircuitOpen: return done(JudgeResult::CircuitOpen, 0);
    case Outcome::Timeout: return done(JudgeResult::Timeout, 0);
    case Outcome::Error: return done(JudgeResult::Error, 0);
    case Outcome::Ok: break;
  }
  if (response.status < 200 || response.status > 299) return done(JudgeResult::Error, 0);
  simdjson::ondemand::parser parser;
  const simdjson::padded_string body(response.body);
  const auto content = answerContent(parser, body);
  const auto score = content ? quality::parseJudgeScore(*content) : std::nullopt;
  if (!score) return done(JudgeResult::ParseError, 0);
  done(JudgeResult::Ok, *score);
}

}  // namespace infergate
