// How the gateway reads an answer's framing from a raw upstream: Beast parses
// the head, ResponseBodyDecoder the body (gateway/http/response_body_decoder.hpp).
// Each case checks what the client gets and whether the upstream connection
// was reused, which it is only when the answer's end was found exactly where
// it is: a decoder that stops early or reads past the end fails one or the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/scripted_upstream.hpp"

using namespace testsupport;

namespace {

const std::string& kAnswer = kScriptedChatAnswer;

std::string lengthHead(std::size_t length, const std::string& status = "200 OK") {
  return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

Response chat(const Gateway& gateway) {
  return request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")), std::chrono::seconds(5));
}

}  // namespace

// A chunked answer with a chunk extension and trailer fields, its last chunk
// and trailers arriving in a second write: the body is relayed exactly and
// the connection goes back to the pool, so one carries every request.
TEST(UpstreamFraming, ChunkedAnswerWithExtensionsAndTrailersEndsWhereItShould) {
  const std::string first = kAnswer.substr(0, 40), second = kAnswer.substr(40);
  char sizes[2][16];
  std::snprintf(sizes[0], sizeof sizes[0], "%zx", first.size());
  std::snprintf(sizes[1], sizeof sizes[1], "%zX", second.size());
  ScriptedUpstream upstream([&](const std::string&) {
    return ScriptedUpstream::Reply{
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            std::string(sizes[0]) + ";name=\"quoted value\"\r\n" + first + "\r\n" + sizes[1] + "\r\n" + second + "\r",
        false, "\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n", std::chrono::milliseconds(20)};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 3; ++i) {
    const auto r = chat(gateway);
    EXPECT_EQ(r.status, 200) << "request " << i;
    EXPECT_TRUE(r.complete) << "request " << i;
    EXPECT_EQ(r.body, kAnswer) << "request " << i;
  }
  EXPECT_EQ(upstream.requests(), 3u);
  EXPECT_EQ(upstream.connections(), 1u);
}

// A 103 Early Hints before the final head is not relayed; the final answer is.
TEST(UpstreamFraming, InterimHeadIsSkippedAndTheFinalAnswerRelayed) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
                                       lengthHead(kAnswer.size()) + kAnswer,
                                   false};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 2; ++i) {
    const auto r = chat(gateway);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kAnswer);
    EXPECT_EQ(r.header("link"), "");
  }
  EXPECT_EQ(upstream.connections(), 1u);
}

// Answers without a body: a HEAD's Content-Length describes a body that is not
// sent, and a 204 has none. Neither waits for bytes that will not come, and
// the connection is reused.
TEST(UpstreamFraming, AnswersWithoutABodyEndAtTheirHead) {
  ScriptedUpstream upstream([](const std::string& req) {
    if (req.starts_with("HEAD ")) return ScriptedUpstream::Reply{lengthHead(1234), false};
    return ScriptedUpstream::Reply{"HTTP/1.1 204 No Content\r\n\r\n", false};
  });
  Gateway gateway(standardConfig(upstream.port()));
  Connection client(gateway.port());
  client.send("HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.read(std::chrono::seconds(5), /*headRequest=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.complete);
  EXPECT_EQ(head.header("content-length"), "1234");
  EXPECT_TRUE(head.body.empty());
  client.send(simpleGet("/v1/models"));
  const auto none = client.read(std::chrono::seconds(5));
  EXPECT_EQ(none.status, 204);
  EXPECT_TRUE(none.complete);
  EXPECT_TRUE(none.body.empty());
  EXPECT_EQ(upstream.requests(), 2u);
  EXPECT_EQ(upstream.connections(), 1u);
}

// Bytes after a length-delimited body are not part of it: the answer is
// relayed as framed, and a connection that sent them is not reused.
TEST(UpstreamFraming, BytesPastTheBodyAreNotRelayedAndTheConnectionIsNotReused) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{lengthHead(kAnswer.size()) + kAnswer + "GARBAGE", false};
  });
  Gateway gateway(standardConfig(upstream.port()));
  for (int i = 0; i < 2; ++i) {
    const auto r = chat(gateway);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kAnswer);
  }
  EXPECT_EQ(upstream.connections(), 2u);
}

// A broken chunk size before anything was relayed: the client gets the
// gateway's 502, not a truncated answer.
TEST(UpstreamFraming, BrokenChunkFramingIsTheUpstreamsProtocolError) {
  ScriptedUpstream upstream([](const std::string&) {
    return ScriptedUpstream::Reply{
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false};
  });
  ConfigKnobs knobs;
  knobs.backendExtra = "    retry: {max_attempts: 1}\n";
  Gateway gateway(standardConfig(upstream.port(), knobs));
  const auto r = chat(gateway);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("upstream_protocol_error"), std::string::npos) << r.body;
}

// A model server that sends a stream's head, then fails before its first
// event: nothing reached the client yet, so the request is retried on the
// next endpoint, which answers. The stream had given its request's head and
// parser back at the first head: the retry must not need them.
TEST(UpstreamFraming, StreamThatFailsAfterItsHeadIsRetriedElsewhere) {
  // What each upstream was sent: a stream's parsed head is given back once
  // its request is sent, and the retry is written from the text kept of it.
  std::mutex mutex;
  std::vector<std::string> toFailing, toAnswering;
  ScriptedUpstream failing([&](const std::string& sent) {
    std::lock_guard lock(mutex);
    toFailing.push_back(sent);
    return ScriptedUpstream::Reply{
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n", true};
  });
  ScriptedUpstream answering([&](const std::string& sent) {
    std::lock_guard lock(mutex);
    toAnswering.push_back(sent);
    return ScriptedUpstream::Reply{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
                                   "chunked\r\n\r\n16\r\ndata: {\"choices\":[]}\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n",
                                   false};
  });
  ConfigKnobs knobs;
  knobs.extraEndpointPorts = {answering.port()};
  Gateway gateway(standardConfig(failing.port(), knobs));
  for (int i = 0; i < 4; ++i) {
    const auto r = request(gateway.port(),
                           jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"X-Client-Tag: tag-" + std::to_string(i)}),
                           std::chrono::seconds(5));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.complete);
    EXPECT_NE(r.body.find("[DONE]"), std::string::npos) << r.body;
  }
  EXPECT_TRUE(gateway.process().running());
  // Every request the failing upstream had went whole to the answering one,
  // the same but for the Host line.
  const auto withoutHost = [](std::string text) {
    const auto at = text.find("Host: ");
    return at == std::string::npos ? text : text.erase(at, text.find("\r\n", at) + 2 - at);
  };
  std::lock_guard lock(mutex);
  ASSERT_FALSE(toFailing.empty());
  for (const auto& failed : toFailing) {
    const auto match = std::find_if(toAnswering.begin(), toAnswering.end(),
                                    [&](const std::string& retried) { return withoutHost(retried) == withoutHost(failed); });
    EXPECT_NE(match, toAnswering.end()) << failed;
    EXPECT_NE(failed.find("X-Client-Tag: tag-"), std::string::npos) << failed;
    EXPECT_NE(failed.find("\"stream\":true"), std::string::npos) << failed;
  }
}
