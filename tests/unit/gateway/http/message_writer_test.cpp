#include "gateway/http/message_writer.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

using namespace infergate;
namespace http = boost::beast::http;

namespace {
ProxyRequestHead parseRequest(const std::string& head) {
  http::request_parser<http::empty_body, CachedAllocator<char>> p;
  boost::system::error_code ec;
  p.put(boost::asio::buffer(head), ec);
  return p.release().base();
}
ProxyResponseHead parseResponse(const std::string& head) {
  http::response_parser<http::empty_body, CachedAllocator<char>> p;
  p.skip(true);
  boost::system::error_code ec;
  p.put(boost::asio::buffer(head), ec);
  return p.release().base();
}
}  // namespace

TEST(RequestHead, RewritesHopByHopHostAndIdentityHeaders) {
  auto req = parseRequest(
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: client.example\r\nConnection: keep-alive, X-Hop\r\n"
      "X-Hop: secret\r\nKeep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: Basic abc\r\n"
      "Authorization: Bearer client-key\r\nX-Forwarded-For: 1.1.1.1\r\nx-request-id: old\r\n"
      "Accept-Encoding: gzip\r\nExpect: 100-continue\r\nContent-Length: 2\r\nX-Keep: yes\r\n\r\n");
  std::vector<config::HeaderValue> injected{{"authorization", "Bearer upstream-key"}};
  writer::UpstreamRequestHead extra{"10.0.0.5:8000", "rid-1", "127.0.0.1", &injected, 42};
  extra.forwardedTrusted = true;  // the peer is a trusted proxy: its X-Forwarded-For is kept
  std::string out;
  writer::requestHead(out, req, extra);
  EXPECT_EQ(out,
            "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: 10.0.0.5:8000\r\nX-Keep: yes\r\n"
            "X-Forwarded-For: 1.1.1.1, 127.0.0.1\r\nx-request-id: rid-1\r\nauthorization: Bearer upstream-key\r\n"
            "Content-Length: 42\r\n\r\n");
}

TEST(RequestHead, AnUntrustedPeersForwardingHeadersAreReplaced) {
  auto req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Real-IP: 2.2.2.2\r\n"
                          "Forwarded: for=4.4.4.4\r\nX-Keep: yes\r\n\r\n");
  std::string out;
  writer::requestHead(out, req, {"b:1", "r", "3.3.3.3", nullptr, std::nullopt});
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: b:1\r\nX-Keep: yes\r\nX-Forwarded-For: 3.3.3.3\r\nx-request-id: r\r\n\r\n");
}

TEST(RequestHead, FoldsSeveralForwardedForLines) {
  auto req = parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n");
  std::string out;
  writer::UpstreamRequestHead extra{"b:1", "r", "3.3.3.3", nullptr, std::nullopt};
  extra.forwardedTrusted = true;
  writer::requestHead(out, req, extra);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: b:1\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3\r\nx-request-id: r\r\n\r\n");
}

// A stream gives its parser back once its request is sent; a retry writes its
// head from the kept copy, and must send what the parsed request would have.
TEST(KeptRequestHead, WritesTheSameHeadAsTheParsedRequestForEveryAttempt) {
  const std::vector<std::string> requests = {
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: client.example\r\nConnection: keep-alive, X-Hop\r\n"
      "X-Hop: secret\r\nAuthorization: Bearer client-key\r\nX-Forwarded-For: 1.1.1.1\r\nX-Tenant: a\r\n"
      "x-request-id: old\r\nAccept-Encoding: gzip\r\nContent-Length: 2\r\nX-Forwarded-For: 2.2.2.2\r\n"
      "User-Agent: OpenAI/Python 1.0\r\nX-Real-IP: 5.5.5.5\r\nx-tenant: b\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n",
      // An obsolete fold: Beast joins it into one value, so a kept line is one line.
      "POST /v1/completions HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\nX-Tenant: c\r\n\r\n",
  };
  ASSERT_EQ(parseRequest(requests[2])["X-Folded"], "one two");
  const std::vector<config::HeaderValue> tenant{{"X-TENANT", "backend"}, {"authorization", "Bearer up"}};
  const std::vector<config::HeaderValue> other{{"x-other", "1"}};
  for (const auto& text : requests) {
    const auto req = parseRequest(text);
    for (const bool trusted : {false, true}) {
      for (const bool dropCredentials : {false, true}) {
        writer::UpstreamRequestHead first{"10.0.0.5:8000", "rid-1", "127.0.0.1", &tenant, 42};
        first.forwardedTrusted = trusted;
        first.dropClientCredentials = dropCredentials;
        writer::KeptRequestHead kept;
        writer::keepRequestHead(kept, req, first);
        // The next attempts: another endpoint, another backend's headers, none.
        for (const auto* injected : {&tenant, &other, static_cast<const std::vector<config::HeaderValue>*>(nullptr)}) {
          auto attempt = first;
          attempt.authority = "10.0.0.6:9000";
          attempt.injected = injected;
          attempt.contentLength = injected == nullptr ? std::nullopt : std::optional<std::size_t>(7);
          std::string fromParsed, fromKept;
          writer::requestHead(fromParsed, req, attempt);
          writer::requestHead(fromKept, kept, attempt);
          EXPECT_EQ(fromKept, fromParsed) << text << " trusted " << trusted << " drop " << dropCredentials;
        }
      }
    }
  }
}

// The client's X-Tenant lines the first backend overrode are sent to a
// fallback backend that sets none.
TEST(KeptRequestHead, KeepsTheLinesOneBackendOverridesForTheNext) {
  const auto req = parseRequest("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nX-Tenant: a\r\nX-Keep: k\r\n\r\n");
  const std::vector<config::HeaderValue> tenant{{"x-tenant", "backend"}};
  writer::UpstreamRequestHead first{"p:1", "r", "3.3.3.3", &tenant, 2};
  writer::KeptRequestHead kept;
  writer::keepRequestHead(kept, req, first);
  std::string out;
  writer::requestHead(out, kept, first);
  EXPECT_EQ(out, "POST /v1/chat/completions HTTP/1.1\r\nHost: p:1\r\nX-Keep: k\r\nX-Forwarded-For: 3.3.3.3\r\n"
                 "x-request-id: r\r\nx-tenant: backend\r\nContent-Length: 2\r\n\r\n");
  writer::UpstreamRequestHead fallback{"f:2", "r", "3.3.3.3", nullptr, 2};
  writer::requestHead(out, kept, fallback);
  EXPECT_EQ(out, "POST /v1/chat/completions HTTP/1.1\r\nHost: f:2\r\nX-Tenant: a\r\nX-Keep: k\r\n"
                 "X-Forwarded-For: 3.3.3.3\r\nx-request-id: r\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseHead, StripsHopByHopAndSetsFraming) {
  auto res = parseResponse(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
      "Transfer-Encoding: chunked\r\nx-request-id: upstream-id\r\nX-Model: m\r\n\r\n");
  std::string out;
  writer::DownstreamResponseHead extra;
  extra.requestId = "rid";
  extra.framing = writer::BodyFraming::Chunked;
  writer::responseHead(out, res, extra);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Model: m\r\nx-request-id: rid\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");

  auto fixed = parseResponse("HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\n");
  extra.framing = writer::BodyFraming::ContentLength;
  extra.contentLength = 7;
  extra.close = true;
  writer::responseHead(out, fixed, extra);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nx-request-id: rid\r\nContent-Length: 7\r\nConnection: close\r\n\r\n");
}

TEST(ChunkPrefix, IsHex) {
  char buf[24];
  EXPECT_EQ(std::string(buf, writer::chunkPrefix(buf, 255)), "ff\r\n");
  EXPECT_EQ(std::string(buf, writer::chunkPrefix(buf, 1)), "1\r\n");
}
