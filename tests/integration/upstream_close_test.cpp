// An upstream whose last bytes and FIN arrive together. The gateway waits for
// the next message on a drained socket without trying it first
// (gateway/net/socket_read.hpp); these are the cases where an end-of-file could
// hide behind that, checked against a raw upstream that writes its answer and
// closes at once.
#include <gtest/gtest.h>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/scripted_upstream.hpp"

using namespace testsupport;

namespace {

const std::string kAnswer =
    R"({"id":"c1","object":"chat.completion","model":"mock-model","choices":[{"index":0,"message":)"
    R"({"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";

}  // namespace

// No Content-Length, no chunking: the body ends where the connection does.
TEST(UpstreamClose, CloseDelimitedAnswerEndsWithTheUpstreamsClose) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + kAnswer, true};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 3; ++i) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);  // the last chunk came: the gateway saw the EOF, not its idle timeout
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    EXPECT_EQ(r.body, kAnswer);
  }
  EXPECT_EQ(upstream.connections(), 3u);
}

// A length-delimited answer, then the upstream closes without saying so. The
// pooled connection is dead; the next request must still succeed, once.
TEST(UpstreamClose, AnswerFollowedByAnUnannouncedCloseLosesNoRequest) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                       std::to_string(kAnswer.size()) + "\r\n\r\n" + kAnswer,
                                   true};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 4; ++i) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5));
    EXPECT_EQ(r.status, 200) << "request " << i;
    EXPECT_EQ(r.body, kAnswer);
  }
  EXPECT_EQ(upstream.requests(), 4u);  // each request reached the model exactly once
  EXPECT_EQ(upstream.connections(), 4u);
}

// The same upstream with keep-alive: one connection carries every request.
TEST(UpstreamClose, KeepAliveUpstreamCarriesEveryRequestOnOneConnection) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                       std::to_string(kAnswer.size()) + "\r\n\r\n" + kAnswer,
                                   false};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 5; ++i) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kAnswer);
  }
  EXPECT_EQ(upstream.requests(), 5u);
  EXPECT_EQ(upstream.connections(), 1u);
}
