// SSE relay: events reach the client as the model produces them, and failures
// after the first event are reported in-band.
#include <gtest/gtest.h>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {
int countEvents(const std::string& body, const std::string& needle = "data: {") {
  int n = 0;
  for (auto pos = body.find(needle); pos != std::string::npos; pos = body.find(needle, pos + 1)) ++n;
  return n;
}
}  // namespace

TEST(Streaming, FirstEventReachesClientWhileBackendIsStillGenerating) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 5", "x-mock-inter-token-ms: 300"}));
  auto r = c.read(std::chrono::seconds(10));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.complete);
  ASSERT_GE(r.chunks.size(), 5u);
  // The mock needs 4 × 300 ms after its first token to finish: the first event
  // must arrive long before that, and the events must be spread out in time.
  EXPECT_NE(r.chunks.front().data.find("data: {"), std::string::npos);
  EXPECT_LT(r.chunks.front().atMs, 250.0);
  EXPECT_GE(r.chunks.back().atMs, 1100.0);
  EXPECT_EQ(countEvents(r.body, "\"content\":"), 5);
}

TEST(Streaming, UpstreamResetAfterFirstEventsEndsWithSseErrorEvent) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 10", "x-mock-reset-after: 3", "x-mock-inter-token-ms: 20"}));
  auto r = c.read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);  // a clean end of the chunked body after the error event
  EXPECT_EQ(countEvents(r.body, "\"content\":"), 3);
  auto error = r.body.find("event: error\ndata: {\"error\":");
  ASSERT_NE(error, std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"upstream_reset\"", error), std::string::npos);
  // The client connection is still usable.
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(c.read().status, 200);
}

TEST(Streaming, Http10ClientGetsCloseDelimitedStream) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  const auto body = chatBody("mock-model", true);
  Connection c(gateway.port());
  c.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body);
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.header("transfer-encoding"), "");
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

// A stream's request header lines are dropped once its answer is past its
// head (they are not kept for the stream's life): they must have reached the
// model server before, and the next request on the connection carries its own.
TEST(Streaming, ARequestsHeaderLinesReachTheServerAndTheNextRequestCarriesItsOwn) {
  MockServer mock({"--record"});
  Gateway gateway(standardConfig(mock.port()));
  auto lastHead = [&] { return std::string(mock.stats().at("last_request_head").as_string()); };
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 4", "x-mock-inter-token-ms: 50", "x-client-tag: first-stream"}));
  auto stream = c.read(std::chrono::seconds(10));
  ASSERT_EQ(stream.status, 200);
  ASSERT_TRUE(stream.complete);
  EXPECT_NE(stream.body.find("[DONE]"), std::string::npos);
  EXPECT_NE(lastHead().find("x-client-tag: first-stream"), std::string::npos) << lastHead();

  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-client-tag: second-json"}));
  auto json = c.read(std::chrono::seconds(10));
  ASSERT_EQ(json.status, 200);
  auto head = lastHead();
  EXPECT_NE(head.find("x-client-tag: second-json"), std::string::npos) << head;
  EXPECT_EQ(head.find("first-stream"), std::string::npos) << head;

  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 2", "x-client-tag: third-stream"}));
  auto again = c.read(std::chrono::seconds(10));
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("[DONE]"), std::string::npos);
  head = lastHead();
  EXPECT_NE(head.find("x-client-tag: third-stream"), std::string::npos) << head;
  EXPECT_EQ(head.find("second-json"), std::string::npos) << head;
}

// A request sent while a stream is being relayed (the client connection is
// watched then: a client that leaves is seen at once) waits its turn: the
// stream ends whole, then the second request is answered on the same
// connection. Sent at two moments: once the watch is on (past 50 ms), in two
// pieces with a pause between, and just before the stream's end.
TEST(Streaming, ARequestSentDuringAStreamIsAnsweredAfterIt) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  const auto streamRequest = jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                                      {"x-mock-tokens: 6", "x-mock-inter-token-ms: 100", "x-request-id: the-stream"});
  const auto alone = request(gateway.port(), streamRequest, std::chrono::seconds(10));
  ASSERT_EQ(alone.status, 200);
  const int events = countEvents(alone.body);
  ASSERT_GE(events, 6);
  for (int sendAfterMs : {200, 560}) {
    Connection c(gateway.port());
    c.send(streamRequest);
    std::this_thread::sleep_for(std::chrono::milliseconds(sendAfterMs));
    const auto second = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-request-id: the-next"});
    c.send(second.substr(0, 40));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    c.send(second.substr(40));
    auto stream = c.read(std::chrono::seconds(10));
    ASSERT_EQ(stream.status, 200) << sendAfterMs;
    EXPECT_TRUE(stream.complete) << sendAfterMs;
    EXPECT_EQ(stream.header("x-request-id"), "the-stream");
    EXPECT_EQ(countEvents(stream.body), events) << stream.body;
    EXPECT_NE(stream.body.find("data: [DONE]"), std::string::npos);
    auto next = c.read(std::chrono::seconds(10));
    ASSERT_EQ(next.status, 200) << sendAfterMs << " " << next.body;
    EXPECT_EQ(next.header("x-request-id"), "the-next");
    EXPECT_NE(next.body.find("chat.completion"), std::string::npos) << next.body;
  }
}

