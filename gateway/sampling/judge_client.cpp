#include "gateway/sampling/judge_client.hpp"

#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "filters/quality/judge_score.hpp"

namespace infergate {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
std::int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
constexpr std::size_t kMaxJudgeResponse = 1 << 20;
}  // namespace

struct JudgeClient::Call {
  explicit Call(boost::asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  http::request<http::string_body> request;
  http::response_parser<http::string_body> parser;
  beast::flat_buffer buffer;
  CircuitBreaker* breaker = nullptr;
  CircuitBreaker::Admission admission;
  Done done;
  bool finished = false;
};

JudgeClient::JudgeClient(boost::asio::io_context& io, const config::JudgeConfig& config, const BackendRuntime& backend)
    : io_(io),
      config_(config),
      backend_(backend),
      budget_(static_cast<unsigned>(backend.endpoints.size()), backend.config->circuit_breaker.max_ejected_percent) {
  for (std::size_t i = 0; i < backend.endpoints.size(); ++i)
    breakers_.push_back(
        std::make_unique<CircuitBreaker>(backend.config->circuit_breaker, steadyNs, &budget_, 0x6a75646765ull + i));
}

JudgeClient::~JudgeClient() = default;

std::string JudgeClient::requestBody(const std::string& prompt, const std::string& answer) const {
  std::string user = "Prompt:\n<<<\n" + prompt + "\n>>>\n\nAnswer:\n<<<\n" + answer + "\n>>>";
  std::string body = "{\"model\":";
  appendJsonString(body, config_.model);
  body += ",\"temperature\":0,\"stream\":false,\"max_tokens\":" + std::to_string(config_.max_tokens);
  body += ",\"messages\":[{\"role\":\"system\",\"content\":";
  appendJsonString(body, config_.rubric);
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
  // Round robin over endpoints whose breaker admits.
  std::size_t pick = breakers_.size();
  for (std::size_t k = 0; k < breakers_.size(); ++k) {
    const auto i = (next_ + k) % breakers_.size();
    if (breakers_[i]->admissible()) {
      pick = i;
      break;
    }
  }
  if (pick == breakers_.size()) {
    done(JudgeResult::CircuitOpen, 0);
    return;
  }
  next_ = pick + 1;
  auto call = std::make_shared<Call>(io_);
  call->breaker = breakers_[pick].get();
  call->admission = call->breaker->admit();
  if (!call->admission.allowed) {
    done(JudgeResult::CircuitOpen, 0);
    return;
  }
  call->done = std::move(done);
  ++inFlight_;
  const auto& endpoint = backend_.endpoints[pick];
  auto& req = call->request;
  req.method(http::verb::post);
  req.target("/v1/chat/completions");
  req.version(11);
  req.set(http::field::host, endpoint.authority);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "infergate-judge");
  for (const auto& h : backend_.config->headers) req.set(h.name, h.value);
  req.body() = requestBody(prompt, answer);
  req.prepare_payload();
  req.keep_alive(false);
  call->parser.body_limit(kMaxJudgeResponse);

  call->stream.expires_after(config_.timeout);
  call->stream.async_connect(endpoint.address, [this, call](beast::error_code ec) {
    if (ec) return finish(call, ec == beast::error::timeout ? JudgeResult::Timeout : JudgeResult::Error, 0, true);
    http::async_write(call->stream, call->request, [this, call](beast::error_code ec2, std::size_t) {
      if (ec2) return finish(call, ec2 == beast::error::timeout ? JudgeResult::Timeout : JudgeResult::Error, 0, true);
      http::async_read(call->stream, call->buffer, call->parser, [this, call](beast::error_code ec3, std::size_t) {
        if (ec3) return finish(call, ec3 == beast::error::timeout ? JudgeResult::Timeout : JudgeResult::Error, 0, true);
        const auto& response = call->parser.get();
        const unsigned status = response.result_int();
        if (status < 200 || status > 299) {
          // The judge's own 5xx and 429 count against its endpoint; a 4xx is our request.
          return finish(call, JudgeResult::Error, 0, status >= 500 || status == 429);
        }
        std::string_view content;
        simdjson::ondemand::parser parser;
        simdjson::padded_string body(response.body());
        simdjson::ondemand::document doc;
        bool parsed = false;
        if (!parser.iterate(body).get(doc)) {
          simdjson::ondemand::array choices;
          if (!doc.find_field_unordered("choices").get_array().get(choices)) {
            for (auto choice : choices) {
              simdjson::ondemand::object message;
              if (!choice.find_field_unordered("message").get_object().get(message) &&
                  !message.find_field_unordered("content").get_string().get(content))
                parsed = true;
              break;
            }
          }
        }
        const auto score = parsed ? quality::parseJudgeScore(content) : std::nullopt;
        if (!score) return finish(call, JudgeResult::ParseError, 0, false);
        finish(call, JudgeResult::Ok, *score, false);
      });
    });
  });
}

void JudgeClient::finish(const std::shared_ptr<Call>& call, JudgeResult result, int score, bool endpointFailed) {
  if (call->finished) return;
  call->finished = true;
  --inFlight_;
  if (endpointFailed) call->breaker->onFailure(call->admission);
  else call->breaker->onSuccess(call->admission);
  beast::error_code ignored;
  call->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  call->stream.close();
  call->done(result, score);
}

}  // namespace infergate
