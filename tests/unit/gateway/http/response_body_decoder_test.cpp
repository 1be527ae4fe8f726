#include "gateway/http/response_body_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

using infergate::ResponseBodyDecoder;
using Framing = ResponseBodyDecoder::Framing;

namespace {

struct Decoded {
  std::string body;
  std::size_t consumed = 0;
  bool error = false;
};

// Feeds `wire` in reads of `readSize` bytes into a relay buffer of `room`
// bytes, as the exchange does: what a read leaves unconsumed is offered again
// with the next read's bytes.
Decoded decodeAll(ResponseBodyDecoder& decoder, const std::string& wire, std::size_t readSize, std::size_t room = 64) {
  Decoded out;
  std::string pending;
  std::size_t offered = 0;
  while (!decoder.done()) {
    if (offered < wire.size()) {
      const auto n = std::min(readSize, wire.size() - offered);
      pending += wire.substr(offered, n);
      offered += n;
    }
    std::string relay(room, '\0');
    const auto step = decoder.decode(pending, relay.data(), room);
    out.body.append(relay.data(), step.produced);
    out.consumed += step.consumed;
    pending.erase(0, step.consumed);
    if (step.error) {
      out.error = true;
      break;
    }
    if (step.consumed == 0 && offered == wire.size()) break;  // nothing more will come
  }
  return out;
}

Decoded chunked(const std::string& wire, std::size_t readSize = 1 << 20) {
  ResponseBodyDecoder decoder;
  decoder.start(Framing::Chunked);
  return decodeAll(decoder, wire, readSize);
}

}  // namespace

TEST(ResponseBodyDecoder, ChunkedBodyReadAByteAtATimeGivesTheDataAndEndsAtTheLastChunk) {
  const std::string wire = "5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n";
  for (std::size_t readSize : {1u, 2u, 3u, 7u, 1000u}) {
    ResponseBodyDecoder decoder;
    decoder.start(Framing::Chunked);
    const auto out = decodeAll(decoder, wire, readSize);
    EXPECT_FALSE(out.error) << readSize;
    EXPECT_TRUE(decoder.done()) << readSize;
    EXPECT_EQ(out.body, "hello world") << readSize;
    EXPECT_EQ(out.consumed, wire.size()) << readSize;
  }
}

// What makes a stream hold nothing between events: each event's chunk,
// closing CRLF included, is taken whole, so the read buffer is empty.
TEST(ResponseBodyDecoder, AStreamEventsChunkIsTakenWholeWithItsClosingLineEnd) {
  ResponseBodyDecoder decoder;
  decoder.start(Framing::Chunked);
  const std::string event = "data: {\"x\":1}\n\n";
  char hex[16];
  const std::string wire = std::string(hex, std::snprintf(hex, sizeof hex, "%zx", event.size())) + "\r\n" + event + "\r\n";
  std::string relay(64, '\0');
  const auto step = decoder.decode(wire, relay.data(), relay.size());
  EXPECT_FALSE(step.error);
  EXPECT_EQ(step.consumed, wire.size());
  EXPECT_EQ(relay.substr(0, step.produced), event);
  EXPECT_FALSE(decoder.done());
}

TEST(ResponseBodyDecoder, BytesAfterTheBodysEndAreLeftForTheCallerToSee) {
  ResponseBodyDecoder decoder;
  decoder.start(Framing::Chunked);
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  std::string relay(64, '\0');
  const auto step = decoder.decode(body + "HTTP/1.1 200 OK\r\n", relay.data(), relay.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(step.consumed, body.size());

  decoder.start(Framing::Length, 4);
  const auto length = decoder.decode("abcdEXTRA", relay.data(), relay.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(length.consumed, 4u);
  EXPECT_EQ(relay.substr(0, length.produced), "abcd");
}

TEST(ResponseBodyDecoder, AFullRelayBufferStopsTheDecodeWhichGoesOnFromThereLater) {
  ResponseBodyDecoder decoder;
  decoder.start(Framing::Chunked);
  const auto out = decodeAll(decoder, "10\r\n0123456789abcdef\r\n0\r\n\r\n", 1 << 20, /*room=*/5);
  EXPECT_FALSE(out.error);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(out.body, "0123456789abcdef");

  decoder.start(Framing::Length, 12);
  EXPECT_EQ(decodeAll(decoder, "hello world!", 1 << 20, /*room=*/5).body, "hello world!");
  EXPECT_TRUE(decoder.done());
}

TEST(ResponseBodyDecoder, ABrokenChunkFramingIsAnError) {
  EXPECT_TRUE(chunked("\r\n").error);                        // no size
  EXPECT_TRUE(chunked("g\r\n").error);                       // not hexadecimal
  EXPECT_TRUE(chunked("3\nabc\r\n0\r\n\r\n").error);         // a bare LF ends the size line
  EXPECT_TRUE(chunked("3\r\nabcX\r\n").error);               // data longer than its size
  EXPECT_TRUE(chunked("3\r\nabc\n0\r\n\r\n").error);         // no CR after the data
  EXPECT_TRUE(chunked("10000000000000000\r\n").error);       // more than 64 bits
  EXPECT_TRUE(chunked("0\r\nX: a\x7f\r\n\r\n").error);         // a control character in a trailer
  EXPECT_TRUE(chunked("0\r\n\r\r").error);                   // the final CRLF is not one
  // The largest size that fits is a size, not an error (the body just never ends here).
  const auto largest = chunked("ffffffffffffffff\r\nabc");
  EXPECT_FALSE(largest.error);
  EXPECT_EQ(largest.body, "abc");
  EXPECT_FALSE(chunked("000A\r\n0123456789\r\n0\r\n\r\n").error);  // leading zeros, upper case
  // Long extensions and trailers are skipped whatever their length, as Beast
  // reads them (its differential fuzz target found 19 KiB of trailers that a
  // 16 KiB cap refused).
  const auto longExtension = chunked("3;" + std::string(20'000, 'x') + "\r\nabc\r\n0\r\n\r\n", 1000);
  EXPECT_FALSE(longExtension.error);
  EXPECT_EQ(longExtension.body, "abc");
  EXPECT_FALSE(chunked("0\r\nX: " + std::string(20'000, 'x') + "\r\nY: 1\r\n\r\n", 1000).error);
  EXPECT_EQ(chunked("0000000000000000000000000000001\r\na\r\n0\r\n\r\n").body, "a");  // leading zeros
  const std::string folded = "0\r\nX: a\r\n folded\r\n\r\n";  // an obsolete fold is skipped too
  EXPECT_FALSE(chunked(folded).error);
  EXPECT_EQ(chunked(folded).consumed, folded.size());
}

TEST(ResponseBodyDecoder, OnlyABodyFramedByTheCloseEndsWithIt) {
  ResponseBodyDecoder decoder;
  decoder.start(Framing::UntilClose);
  std::string relay(64, '\0');
  EXPECT_EQ(decoder.decode("some bytes", relay.data(), relay.size()).produced, 10u);
  EXPECT_FALSE(decoder.done());
  EXPECT_TRUE(decoder.endAtClose());
  EXPECT_TRUE(decoder.done());

  decoder.start(Framing::Length, 10);
  decoder.decode("short", relay.data(), relay.size());
  EXPECT_FALSE(decoder.endAtClose());  // cut short
  EXPECT_FALSE(decoder.done());

  decoder.start(Framing::Chunked);
  decoder.decode("5\r\nhel", relay.data(), relay.size());
  EXPECT_FALSE(decoder.endAtClose());

  decoder.start(Framing::None);
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.endAtClose());  // already whole
  decoder.start(Framing::Length, 0);
  EXPECT_TRUE(decoder.done());
}
