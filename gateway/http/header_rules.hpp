#pragma once
// Header rules applied when a message crosses the gateway: which headers are
// hop-by-hop (the writers in message_writer.cpp drop them, and those named in
// Connection, both ways), request ids are accepted or minted, X-Forwarded-For is
// appended.
#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include <vector>

#include "config/cidr.hpp"
#include "filters/core/http_messages.hpp"

namespace infergate::headers {

// Hop-by-hop per RFC 9110 §7.6.1, plus the legacy ones proxies see in practice.
// All of them are fields Beast parses to an enum: the writers test that.
bool isHopByHop(boost::beast::http::field name);
bool isHopByHop(std::string_view name);

// A client-supplied x-request-id is kept only if it is short, made of safe
// characters and not shaped like a credential (it ends up in logs, samples and
// response headers; a client pasting a key there must not see it logged).
bool acceptableRequestId(std::string_view id);

// Fast per-worker request id source: 32 hex characters, unique per process.
class RequestIdGenerator {
 public:
  static constexpr std::size_t kLength = 32;
  explicit RequestIdGenerator(std::uint64_t seed);
  // Writes the next id's kLength characters at `out`.
  void next(char* out);

 private:
  std::uint64_t state_;
  std::uint64_t counter_ = 0;
};

// "existing, client" or "client".
std::string appendForwardedFor(std::string_view existing, std::string_view clientAddress);

// The client a trusted proxy forwards for: walking X-Forwarded-For from the
// right (each proxy appends the peer it saw), the first address that is not
// itself a trusted proxy; else X-Real-IP; else `peer`. Anything that is not
// an address ends the walk: a client may write what it likes on the left.
std::string forwardedClient(const ProxyRequestHead& head, const std::vector<config::Cidr>& trusted,
                            std::string_view peer);

}  // namespace infergate::headers
