#pragma once
// Serializes the heads the gateway sends: the upstream request head and the
// downstream response head. Written by hand (not Beast's serializer) so the head
// and the first body piece go out in one gathered write, and so that filtering
// hop-by-hop fields costs one pass.
#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "filters/core/http_messages.hpp"

namespace infergate::writer {

struct UpstreamRequestHead {
  std::string_view authority;         // Host
  std::string_view requestId;
  std::string_view clientAddress;     // appended to X-Forwarded-For
  const std::vector<config::HeaderValue>* injected = nullptr;  // override the client's
  std::optional<std::size_t> contentLength;
  bool dropClientCredentials = false;  // leave out Authorization, api-key and x-api-key
  // From a trusted proxy X-Forwarded-For, Forwarded and X-Real-IP are passed on
  // (the peer appended); from anyone else they are replaced by the peer alone.
  bool forwardedTrusted = false;
};

void requestHead(std::string& out, const ProxyRequestHead& request,
                 const UpstreamRequestHead& extra);

// What a later attempt needs of the client's head once its parser is given
// back (a stream waiting for its first token): the request line and the
// client's lines that go on, X-Forwarded-For folded, as one text. Every
// attempt's own lines (Host, the request id, the backend's headers, the
// length) are added by requestHead, which writes the same head from it as
// from the parsed request.
struct KeptRequestHead {
  std::string text;
  std::uint32_t linesAt = 0;      // the client's first line (after the request line)
  std::uint32_t forwardedAt = 0;  // the X-Forwarded-For line, the last
};

// `extra`'s parts that are the client's (its address, whether its forwarding
// lines are trusted, whether its credentials go on) are kept; the rest is ignored.
void keepRequestHead(KeptRequestHead& kept, const ProxyRequestHead& request, const UpstreamRequestHead& extra);
void requestHead(std::string& out, const KeptRequestHead& kept, const UpstreamRequestHead& extra);

enum class BodyFraming : std::uint8_t { None, ContentLength, Chunked, CloseDelimited };

struct DownstreamResponseHead {
  std::string_view requestId;
  BodyFraming framing = BodyFraming::ContentLength;
  std::optional<std::uint64_t> contentLength;  // with ContentLength, or kept for HEAD
  bool close = false;                           // Connection: close
  std::string_view filterHeaders;               // whole "Name: value\r\n" lines the filters added
};

void responseHead(std::string& out, const ProxyResponseHead& response,
                  const DownstreamResponseHead& extra);

// A complete local reply (errors, admin): status line, JSON content type, body.
void localReply(std::string& out, unsigned status, std::string_view requestId, std::string_view contentType,
                std::string_view body, bool close, unsigned retryAfterSeconds = 0, std::string_view allow = {},
                std::string_view extraHeaders = {});

// "1a2b\r\n" for a chunk of `size` bytes; returns the length written into `out` (≥ 20 bytes).
std::size_t chunkPrefix(char* out, std::size_t size);

}  // namespace infergate::writer
