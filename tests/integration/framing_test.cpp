// Requests with ambiguous or forbidden framing are refused with 400 and the
// connection is closed; nothing of them reaches the backend. Limits give 413/431.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

class FramingTest : public ::testing::Test {
 protected:
  MockServer mock;
  Gateway gateway{standardConfig(mock.port(), [] {
    ConfigKnobs k;
    k.maxBody = "4KiB";
    k.maxHeader = "2KiB";
    return k;
  }())};

  // Sends raw bytes and checks the full rejection contract.
  void expectRejected(const std::string& raw, unsigned status) {
    mock.reset();
    Connection c(gateway.port());
    c.send(raw);
    auto r = c.read(std::chrono::seconds(3));
    EXPECT_EQ(r.status, status) << raw;
    EXPECT_EQ(r.header("connection"), "close") << raw;
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto json = boost::json::parse(r.body);
    EXPECT_TRUE(json.at("error").at("message").is_string());
    EXPECT_TRUE(c.waitClosed(std::chrono::seconds(3))) << raw;
    EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u) << raw;
  }
};

const std::string kBody = R"({"model":"mock-model","messages":[{"role":"user","content":"x"}]})";
const std::string kLen = std::to_string(kBody.size());

}  // namespace

TEST_F(FramingTest, ContentLengthWithTransferEncoding) {
  // Also a smuggling attempt: the "body" carries a second request.
  const std::string smuggled = "0\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + kLen +
                               "\r\n\r\n" + kBody;
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(smuggled.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled,
                 400);
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " +
                     std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
                 400);
}

TEST_F(FramingTest, TransferEncodingOtherThanChunked) {
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                 400);
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 400);
}

TEST_F(FramingTest, ChunkedInHttp10) {
  expectRejected("POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(FramingTest, FoldedHeaderLine) {
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nContent-Length: " + kLen +
                     "\r\n\r\n" + kBody,
                 400);
}

TEST_F(FramingTest, UnsupportedHttpVersion) {
  expectRejected("GET /v1/models HTTP/1.2\r\nHost: x\r\n\r\n", 400);
  expectRejected("GET /v1/models HTTP/2.0\r\nHost: x\r\n\r\n", 400);
  expectRejected("GET /v1/models HTTP/0.9\r\n\r\n", 400);
}

TEST_F(FramingTest, MissingOrDuplicateHost) {
  expectRejected("GET /v1/models HTTP/1.1\r\n\r\n", 400);
  expectRejected("GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_F(FramingTest, ConflictingContentLengths) {
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                 "123456",
                 400);
}

TEST_F(FramingTest, GarbageRequestLine) {
  expectRejected("HELLO\r\n\r\n", 400);
}

TEST_F(FramingTest, BodyOverLimitIs413) {
  const std::string big(5000, 'a');
  expectRejected("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + big, 413);
  // Chunked: the limit is found while reading.
  std::string chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "3e8\r\n" + std::string(1000, 'a') + "\r\n";
  expectRejected(chunked + "0\r\n\r\n", 413);
}

TEST_F(FramingTest, HeaderOverLimitIs431) {
  expectRejected("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n", 431);
  // A head that never ends is refused once it passes the limit.
  expectRejected("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b'), 431);
}

TEST_F(FramingTest, ChunkedRequestWithinLimitsIsProxied) {
  Connection c(gateway.port());
  std::string raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", kBody.size());
  raw += std::string(size) + "\r\n" + kBody + "\r\n0\r\n\r\n";
  c.send(raw);
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::string(mock.stats().at("last_request_body").as_string()), kBody);
}

// Bytes that can never become an HTTP/1.x head are answered at once (well
// before the 2 s header timeout), with 400 and a close: garbage, a TLS hello on
// the plain port, a request line in pieces that goes wrong, bare LF line ends.
TEST_F(FramingTest, BytesThatCannotBeHttpAreRefusedAtOnce) {
  const std::string tlsHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (const std::string& raw : {std::string("\x01\x02garbage"), tlsHello, std::string("GET /v1/models HTTP/2.0"),
                                 std::string("POST /a b"), std::string("GE\tT / HTTP/1.1"), std::string("GET /x\n"),
                                 std::string("GET /v1/models HTTP/1.1\nHost: x\n"), std::string("GET  /x HTTP/1.1"),
                                 std::string("GET /v1/models HTTP/1.1\r\nHost: x\n")}) {
    mock.reset();
    Connection c(gateway.port());
    c.send(raw);
    const auto start = std::chrono::steady_clock::now();
    auto r = c.read(std::chrono::milliseconds(1500));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.status, 400u) << raw;
    EXPECT_LT(waited, std::chrono::milliseconds(1500)) << raw;  // not the header timeout's 408
    EXPECT_EQ(r.header("connection"), "close") << raw;
    EXPECT_TRUE(c.waitClosed(std::chrono::seconds(2))) << raw;
  }
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);
  // A request line arriving in pieces that stays valid is waited for.
  Connection c(gateway.port());
  c.send("GET /v1/mo");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.send("dels HT");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.send("TP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read(std::chrono::seconds(3)).status, 200u);
}

// Empty lines before a request are ignored, but they start the header clock:
// a client sending CRLF now and then cannot hold a connection open.
TEST_F(FramingTest, EmptyLinesBeforeARequestDoNotRestartTheHeaderClock) {
  Connection c(gateway.port());
  const auto start = std::chrono::steady_clock::now();
  Response r;
  for (int i = 0; i < 40 && r.status == 0; ++i) {  // up to 4 s of CRLFs; the header timeout is 2 s
    c.send("\r\n");
    r = c.read(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(r.status, 408u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
  // And they are still allowed before a real request.
  Connection ok(gateway.port());
  ok.send("\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.read(std::chrono::seconds(3)).status, 200u);
}

// Each OpenAI path takes its methods: others get 405 with Allow, and are not
// forwarded.
TEST_F(FramingTest, MethodsAPathDoesNotTakeGet405WithAllow) {
  struct Case {
    std::string raw;
    std::string allow;
  };
  for (const auto& c : {Case{"GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", "POST"},
                        Case{"DELETE /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", "POST"},
                        Case{"PUT /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "POST"},
                        Case{"GET /v1/completions?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "POST"},
                        Case{"POST /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "GET, HEAD"}}) {
    mock.reset();
    auto r = request(gateway.port(), c.raw, std::chrono::seconds(3));
    EXPECT_EQ(r.status, 405u) << c.raw;
    EXPECT_EQ(r.header("allow"), c.allow) << c.raw;
    auto json = boost::json::parse(r.body);
    EXPECT_EQ(json.at("error").at("code").as_string(), "method_not_allowed");
    EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u) << c.raw;
  }
  EXPECT_EQ(request(gateway.port(), "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").status, 200u);
}

// A request refused before its head is parsed (here: bare LF line ends, seen
// before any head end) is a request of its own: its error, its log line and its record get
// a new id, not the id of the request before it on the connection.
TEST_F(FramingTest, ARequestRefusedBeforeItsHeadIsReadGetsAnIdOfItsOwn) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", kBody));
  const auto first = c.read(std::chrono::seconds(3));
  ASSERT_EQ(first.status, 200);
  const auto firstId = first.header("x-request-id");
  ASSERT_EQ(firstId.size(), 32u);
  c.send("GET /v1/models HTTP/1.1\nHost: x\n\n");
  const auto refused = c.read(std::chrono::seconds(3));
  ASSERT_EQ(refused.status, 400);
  const auto refusedId = refused.header("x-request-id");
  EXPECT_EQ(refusedId.size(), 32u);
  EXPECT_NE(refusedId, firstId);
  const auto log = gateway.process().stderrText();
  ASSERT_NE(log.find(refusedId), std::string::npos) << "the refusal is logged with its id:\n" << log;
  EXPECT_EQ(log.find(firstId), std::string::npos) << "the refusal was logged under the first request's id:\n" << log;
}
