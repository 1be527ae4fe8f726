// Requests with ambiguous or forbidden framing are refused with 400 and the
// connection is closed; nothing of them reaches the backend. Limits give 413/431.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

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
