#include "filters/core/request_body.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "filters/core/http_messages.hpp"

using namespace infergate;
namespace asio = boost::asio;

TEST(BodyBytes, KeepsPaddingAfterTheBytes) {
  BodyBytes body;
  EXPECT_EQ(body.padded().size(), 0u);  // empty: still a padded view simdjson accepts
  body.assign("{\"a\":1}");
  EXPECT_EQ(body.view(), "{\"a\":1}");
  EXPECT_GE(body.padded().capacity(), body.size() + BodyBytes::kPadding);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_FALSE(parser.iterate(body.padded()).get(doc));
  EXPECT_EQ(int64_t(doc["a"]), 1);
}

TEST(BodyBytes, GrowsKeepingWhatItHolds) {
  BodyBytes body;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string piece(37, static_cast<char>('a' + i % 26));
    body.append(piece);
    expected += piece;
  }
  EXPECT_EQ(body.view(), expected);
  EXPECT_GE(body.capacity(), body.size());
  BodyBytes copy = body;
  EXPECT_EQ(copy, expected);
  BodyBytes spare;
  spare.swap(body);
  EXPECT_EQ(spare, expected);
  EXPECT_TRUE(body.empty());
}

// The session reads into spare() and hands the parser those same bytes: the
// reader counts them where they are, without a copy.
// A stream's body, once sent, is only read as text for seconds: its padding
// goes back (in place), simdjson refuses the view meanwhile instead of reading
// past the block, and the next request on the connection gets room and padding
// again, whether it is read into place or appended.
TEST(BodyBytes, DroppedPaddingComesBackWithTheNextBody) {
  BodyBytes body;
  body.reserve(9);
  std::memcpy(body.spare(), "{\"a\":12}", 8);
  body.grow(8);
  const char* before = body.data();
  body.dropPadding();
  EXPECT_EQ(body.view(), "{\"a\":12}");
  EXPECT_EQ(body.data(), before) << "shrunk where it is";
  EXPECT_EQ(body.room(), 0u);
  EXPECT_EQ(body.capacity(), 8u);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  EXPECT_EQ(parser.iterate(body.padded()).get(doc), simdjson::INSUFFICIENT_PADDING);

  body.clear();  // the next request, read into place
  EXPECT_EQ(body.room(), 0u);
  body.reserve(5);
  ASSERT_GE(body.room(), 5u);
  std::memcpy(body.spare(), "[1,2]", 5);
  body.grow(5);
  ASSERT_FALSE(parser.iterate(body.padded()).get(doc));
  EXPECT_EQ(int64_t(doc.get_array().at(1)), 2);

  body.dropPadding();
  body.clear();  // the next request, appended (chunked)
  body.append("{\"b\":");
  body.append("3}");
  EXPECT_EQ(body.view(), "{\"b\":3}");
  ASSERT_FALSE(parser.iterate(body.padded()).get(doc));
  EXPECT_EQ(int64_t(doc["b"]), 3);
}

TEST(RequestBody, BytesReadIntoPlaceAreCountedNotCopied) {
  const std::string json = R"({"model":"m","messages":[]})";
  const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                           std::to_string(json.size()) + "\r\n\r\n";
  ProxyRequestParser parser;
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(asio::buffer(head), ec);
  ASSERT_FALSE(ec) << ec.message();
  auto& body = parser.get().body();
  body.reserve(json.size());
  const char* storage = body.data();
  parser.eager(true);
  // Two reads into place, as two recv calls would land.
  std::memcpy(body.spare(), json.data(), 10);
  EXPECT_EQ(parser.put(asio::const_buffer(body.spare(), 10), ec), 10u);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_FALSE(parser.is_done());
  std::memcpy(body.spare(), json.data() + 10, json.size() - 10);
  parser.put(asio::const_buffer(body.spare(), json.size() - 10), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(body.view(), json);
  EXPECT_EQ(body.data(), storage);  // never reallocated, never copied
}

TEST(RequestBody, ChunkedBodiesAreAppended) {
  const std::string message =
      "POST /v1/embeddings HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"in\"\r\n6\r\n:\"x\"}\n\r\n0\r\n\r\n";
  ProxyRequestParser parser;
  parser.eager(true);
  boost::system::error_code ec;
  // From a buffer that is not the body's own: the reader copies the pieces.
  parser.put(asio::buffer(message), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "{\"in\":\"x\"}\n");
}
