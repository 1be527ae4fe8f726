// A chunked answer body through the exchange's decoder and through Beast's
// parser, which read it before. Properties: a body Beast reads whole, the
// decoder reads whole too, into the same bytes, taking the same bytes of the
// input (what follows is not the body's), however the reads and the relay
// buffer split it. A body the decoder reads whole, Beast reads whole too and
// the same, unless it held a chunk extension or a trailer field, whose
// grammar the decoder knowingly skips.
//
// Input: byte 0 sets the read size, byte 1 the relay buffer's size; the rest
// is the body after a head with "Transfer-Encoding: chunked".
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gateway/http/response_body_decoder.hpp"

using infergate::ResponseBodyDecoder;
namespace http = boost::beast::http;

namespace {

struct Reading {
  bool whole = false;
  bool skippedExtras = false;
  bool error = false;
  std::string body;
  std::size_t consumed = 0;
  boost::system::error_code ec;
};

Reading beast(std::string_view wire) {
  static const std::string kHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string message = kHead + std::string(wire);
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.eager(true);
  Reading r;
  r.consumed = parser.put(boost::asio::buffer(message), r.ec);
  r.consumed -= std::min(r.consumed, kHead.size());
  if (r.ec == http::error::need_more) r.ec = {};
  r.error = static_cast<bool>(r.ec);
  r.whole = !r.error && parser.is_done();
  r.body = parser.get().body();
  return r;
}

Reading decoder(std::string_view wire, std::size_t readSize, std::size_t room) {
  ResponseBodyDecoder d;
  d.start(ResponseBodyDecoder::Framing::Chunked);
  Reading r;
  std::string relay(room, '\0');
  std::size_t offered = 0;
  std::string_view pending;
  while (!d.done()) {
    // What a read brought, after what the last decode left.
    offered = std::min(wire.size(), offered + readSize);
    pending = wire.substr(r.consumed, offered - r.consumed);
    const auto step = d.decode(pending, relay.data(), room);
    FUZZ_CHECK(step.consumed <= pending.size() && step.produced <= room, "consumed %zu of %zu, produced %zu of %zu",
               step.consumed, pending.size(), step.produced, room);
    r.body.append(relay.data(), step.produced);
    r.consumed += step.consumed;
    if (step.error) {
      r.error = true;
      return r;
    }
    if (step.consumed == 0 && offered == wire.size()) break;
  }
  r.whole = d.done();
  r.skippedExtras = d.skippedExtras();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t readSize = 1 + data[0] % 64;
  const std::size_t room = 1 + data[1] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto before = beast(wire);
  const auto now = decoder(wire, readSize, room);
  if (before.whole) {
    FUZZ_CHECK(now.whole, "Beast read the body whole, the decoder did not (error %d)", now.error);
    FUZZ_CHECK(now.body == before.body, "bodies differ: %zu bytes against Beast's %zu", now.body.size(),
               before.body.size());
    FUZZ_CHECK(now.consumed == before.consumed, "the decoder took %zu bytes, Beast %zu", now.consumed,
               before.consumed);
  }
  if (now.whole && !before.whole) {
    FUZZ_CHECK(now.skippedExtras, "the decoder read a body whole that Beast %s, with no extension or trailer",
               before.error ? before.ec.message().c_str() : "did not finish");
  }
  if (!now.error && !before.error) {
    // Neither refused what it saw: what both produced agrees as far as both went.
    const auto common = std::min(now.body.size(), before.body.size());
    FUZZ_CHECK(now.body.compare(0, common, before.body, 0, common) == 0, "bodies differ within their first %zu bytes",
               common);
  }
  return 0;
}
