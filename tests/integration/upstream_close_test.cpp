// An upstream whose last bytes and FIN arrive together. The gateway waits for
// the next message on a drained socket without trying it first
// (gateway/net/socket_read.hpp), and for the rest of an answer too when the
// reactor reports the upstream's close (gateway/net/peer_close_events.hpp);
// these are the cases where an end-of-file could hide behind that, checked
// against a raw upstream that writes its answer and closes at once. Each case
// runs several times: whether the FIN is already there when the data's event
// is reported depends on timing.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/scripted_upstream.hpp"

using namespace testsupport;

namespace {

const std::string& kAnswer = kScriptedChatAnswer;

}  // namespace

// No Content-Length, no chunking: the body ends where the connection does.
TEST(UpstreamClose, CloseDelimitedAnswerEndsWithTheUpstreamsClose) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + kAnswer, true};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 12; ++i) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);  // the last chunk came: the gateway saw the EOF, not its idle timeout
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    EXPECT_EQ(r.body, kAnswer);
  }
  EXPECT_EQ(upstream.connections(), 12u);
}

namespace {

std::string contentEvent(const std::string& text) {
  return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"mock-model\",\"choices\":"
         "[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}\n\n";
}

}  // namespace

// A stream whose model server goes away after its second event, without the
// last chunk: the event and the FIN leave together, while the gateway waits
// for the stream's next event on a socket its last short read marked drained.
// The client must get both events and the in-band error at once; before the
// reactor reported the FIN, this is what waited for the 30 s idle timeout
// (here the client gives up after 5 s).
TEST(UpstreamClose, StreamCutAfterAnEventEndsWithTheErrorEventAtOnce) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
            chunk(contentEvent("Hello")),
        true, chunk(contentEvent(" there")), std::chrono::milliseconds(30)};
  });
  ConfigKnobs knobs;  // every stream fails: the breaker must not stop the rounds
  knobs.backendExtra = "    circuit_breaker: {consecutive_failures: 100}\n";
  Gateway gateway(standardConfig(upstream.port(), knobs));
  for (int i = 0; i < 12; ++i) {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model", true)),
                     std::chrono::seconds(5));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    EXPECT_TRUE(r.complete) << "request " << i;  // the chunked body ended after the error event
    EXPECT_NE(r.body.find("\"content\":\"Hello\""), std::string::npos);
    EXPECT_NE(r.body.find("\"content\":\" there\""), std::string::npos);
    const auto error = r.body.find("event: error\ndata: {\"error\":");
    ASSERT_NE(error, std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"code\":\"upstream_reset\"", error), std::string::npos) << r.body;
  }
  EXPECT_EQ(upstream.connections(), 12u);
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

// A model server that closes a kept-alive connection as a stream's request
// arrives on it (its idle timeout ran out, say): nothing was answered, so the
// request goes again on a fresh connection, whole. A stream gives its parsed
// head back once its request is sent; the second send writes its head from
// the text the exchange kept.
TEST(UpstreamClose, StreamRequestOnAConnectionTheServerClosesIsSentAgainWhole) {
  std::mutex mutex;
  std::vector<std::string> received;
  ScriptedUpstream upstream([&](const std::string& request) {
    std::lock_guard lock(mutex);
    received.push_back(request);
    if (received.size() == 1)
      return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                         std::to_string(kAnswer.size()) + "\r\n\r\n" + kAnswer,
                                     false};
    if (received.size() == 2) return ScriptedUpstream::Reply{"", true};  // closed, nothing answered
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                       chunk(contentEvent("Hello")) + chunk("data: [DONE]\n\n") + "0\r\n\r\n",
                                   false};
  });
  Gateway gateway(standardConfig(upstream.port()));
  ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5)).status,
            200);
  const auto r = request(gateway.port(),
                         jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"X-Client-Tag: tag-1"}),
                         std::chrono::seconds(5));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("[DONE]"), std::string::npos) << r.body;
  std::lock_guard lock(mutex);
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[2], received[1]);  // the same endpoint: the same bytes
  EXPECT_NE(received[2].find("X-Client-Tag: tag-1\r\n"), std::string::npos) << received[2];
  EXPECT_EQ(upstream.connections(), 2u);
}
