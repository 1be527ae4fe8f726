#include "gateway/http/http_framing.hpp"

#include <boost/beast/core/string.hpp>

namespace infergate::framing {

namespace http = boost::beast::http;

std::size_t findHeadEnd(std::string_view data, std::size_t from) {
  // Resume 3 bytes back so a terminator split across reads is still found.
  std::size_t start = from > 3 ? from - 3 : 0;
  auto pos = data.find("\r\n\r\n", start);
  return pos == std::string_view::npos ? 0 : pos + 4;
}

namespace {

// RFC 9110 §5.6.2 token characters.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The request line as far as it has arrived: whether it can still be valid.
bool plausibleRequestLine(std::string_view data) {
  const auto lineEnd = data.find("\r\n");
  std::string_view line = data.substr(0, lineEnd);
  if (lineEnd == std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);  // its LF is on the way
  std::size_t i = 0;
  while (i < line.size() && isTokenChar(line[i])) ++i;
  // A method may be any length Beast takes: the header limit bounds it.
  if (i == line.size()) return lineEnd == std::string_view::npos;
  if (i == 0 || line[i] != ' ') return false;
  ++i;
  const std::size_t targetStart = i;
  while (i < line.size() && static_cast<unsigned char>(line[i]) > 0x20 && line[i] != 0x7f) ++i;
  if (i == line.size()) return lineEnd == std::string_view::npos;
  if (i == targetStart || line[i] != ' ') return false;
  constexpr std::string_view kVersion = "HTTP/1.1";  // the minor digit checked apart
  const std::string_view version = line.substr(i + 1);
  if (version.size() > kVersion.size()) return false;
  for (std::size_t k = 0; k < version.size(); ++k) {
    const char c = version[k];
    const bool ok = k == 7 ? (c >= '0' && c <= '9') : c == kVersion[k];
    if (!ok) return false;
  }
  return lineEnd == std::string_view::npos || version.size() == kVersion.size();
}

}  // namespace

std::string_view incompleteHeadProblem(std::string_view data, std::size_t from) {
  // A bare LF anywhere in the head: this gateway frames by CRLF only.
  for (auto lf = data.find('\n', from); lf != std::string_view::npos; lf = data.find('\n', lf + 1))
    if (lf == 0 || data[lf - 1] != '\r') return "Lines of a request head must end with CRLF.";
  // The request line is judged until it is complete (later lines are Beast's).
  if (from == 0 || data.substr(0, from).find("\r\n") == std::string_view::npos)
    if (!plausibleRequestLine(data)) return "The request line is not HTTP/1.x.";
  return {};
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

  // One pass over the fields, comparing Beast's enum (see field_scan.hpp).
  std::size_t hosts = 0, encodings = 0, lengths = 0;
  std::string_view encoding;
  for (const auto& field : header) {
    switch (field.name()) {
      case http::field::host: ++hosts; break;
      case http::field::content_length: ++lengths; break;
      case http::field::transfer_encoding:
        if (encodings++ == 0) encoding = field.value();
        break;
      default: break;
    }
  }
  if (version == 11 && hosts == 0) return "HTTP/1.1 requests must have a Host header.";
  if (hosts > 1) return "The request has more than one Host header.";

  if (encodings > 0) {
    if (lengths > 0) return "The request has both Content-Length and Transfer-Encoding.";
    if (version == 10) return "Transfer-Encoding is not allowed in HTTP/1.0.";
    if (encodings > 1 || !boost::beast::iequals(encoding, "chunked"))
      return "Only 'Transfer-Encoding: chunked' is supported.";
  }
  if (lengths > 1) return "The request has more than one Content-Length header.";
  return {};
}

}  // namespace infergate::framing
