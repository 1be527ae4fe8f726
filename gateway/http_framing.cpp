#include "gateway/http_framing.hpp"

#include <boost/beast/core/string.hpp>

namespace infergate::framing {

namespace http = boost::beast::http;

std::size_t findHeadEnd(std::string_view data, std::size_t from) {
  // Resume 3 bytes back so a terminator split across reads is still found.
  std::size_t start = from > 3 ? from - 3 : 0;
  auto pos = data.find("\r\n\r\n", start);
  return pos == std::string_view::npos ? 0 : pos + 4;
}

bool hasObsFold(std::string_view head) {
  auto first = head.find("\r\n");
  if (first == std::string_view::npos) return false;
  for (auto pos = first; pos != std::string_view::npos && pos + 2 < head.size(); pos = head.find("\r\n", pos + 2)) {
    char next = head[pos + 2];
    if (next == ' ' || next == '\t') return true;
  }
  return false;
}

std::string checkRequestHeader(const ProxyRequestHead& header) {
  const unsigned version = header.version();
  if (version != 10 && version != 11) return "Only HTTP/1.0 and HTTP/1.1 are supported.";

  const auto hosts = header.count(http::field::host);
  if (version == 11 && hosts == 0) return "HTTP/1.1 requests must have a Host header.";
  if (hosts > 1) return "The request has more than one Host header.";

  const auto encodings = header.count(http::field::transfer_encoding);
  if (encodings > 0) {
    if (header.count(http::field::content_length) > 0)
      return "The request has both Content-Length and Transfer-Encoding.";
    if (version == 10) return "Transfer-Encoding is not allowed in HTTP/1.0.";
    if (encodings > 1 || !boost::beast::iequals(header[http::field::transfer_encoding], "chunked"))
      return "Only 'Transfer-Encoding: chunked' is supported.";
  }
  if (header.count(http::field::content_length) > 1) return "The request has more than one Content-Length header.";
  return {};
}

}  // namespace infergate::framing
