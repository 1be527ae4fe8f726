#include "gateway/http/message_writer.hpp"

#include <boost/beast/core/string.hpp>
#include <array>
#include <charconv>

#include "filters/core/errors.hpp"
#include "filters/auth/credentials.hpp"
#include "gateway/http/header_rules.hpp"

namespace infergate::writer {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

// Field names listed in Connection headers: hop-by-hop for this message only.
struct ConnectionTokens {
  std::array<std::string_view, 16> names{};
  std::size_t count = 0;
  bool closeRequested = false;

  template <class Fields>
  explicit ConnectionTokens(const Fields& fields) {
    for (const auto& field : fields) {
      if (field.name() != http::field::connection) continue;  // by enum: no tree walk (see field_scan.hpp)
      std::string_view value = field.value();
      while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view token = value.substr(0, comma);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
        if (!token.empty() && count < names.size()) names[count++] = token;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
      }
    }
  }
  bool contains(std::string_view name) const {
    if (count == 0) return false;
    for (std::size_t i = 0; i < count; ++i)
      if (iequals(names[i], name)) return true;
    return false;
  }
};

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void appendNumber(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

bool overridden(const std::vector<config::HeaderValue>* injected, std::string_view name) {
  if (injected == nullptr) return false;
  for (const auto& h : *injected)
    if (iequals(h.name, name)) return true;
  return false;
}

void appendRequestLine(std::string& out, const ProxyRequestHead& request) {
  out.append(request.method_string()).push_back(' ');
  out.append(request.target()).append(" HTTP/1.1\r\n");
}

// The client's lines that go on to the model server, then the folded
// X-Forwarded-For line (whose start is returned): what every attempt sends
// alike, apart from the lines the backend's `headers` override (`overrides`;
// null keeps them all).
std::size_t appendClientLines(std::string& out, const ProxyRequestHead& request, const UpstreamRequestHead& extra,
                              const std::vector<config::HeaderValue>* overrides) {
  ConnectionTokens named(request);
  // X-Forwarded-For lines are folded into one, with the client appended.
  std::string_view firstForwardedFor;
  std::string moreForwardedFor;
  for (const auto& field : request) {
    const auto name = field.name();
    const auto nameText = field.name_string();
    switch (name) {
      case http::field::host:
      case http::field::content_length:
      case http::field::expect:           // 100-continue was answered by the gateway
      case http::field::accept_encoding:  // the gateway reads bodies (SSE): keep them identity-encoded
        continue;
      default:
        break;
    }
    if (headers::isHopByHop(name)) continue;
    if (extra.dropClientCredentials && auth::isCredentialField(field)) continue;
    // Beast has no enum for these two: only unrecognised names are compared as text.
    if (!extra.forwardedTrusted && (name == http::field::forwarded ||
                                    (name == http::field::unknown && iequals(nameText, "x-real-ip"))))
      continue;
    if (name == http::field::unknown) {
      if (iequals(nameText, "x-forwarded-for")) {
        if (!extra.forwardedTrusted) continue;  // a client's claim, not a proxy's: replaced
        if (firstForwardedFor.empty()) firstForwardedFor = field.value();
        else moreForwardedFor.append(", ").append(field.value());
        continue;
      }
      if (iequals(nameText, "x-request-id")) continue;
    }
    if (named.contains(nameText)) continue;
    if (overridden(overrides, nameText)) continue;
    appendField(out, nameText, field.value());
  }
  const auto forwardedAt = out.size();
  out.append("X-Forwarded-For: ");
  if (!firstForwardedFor.empty()) out.append(firstForwardedFor).append(moreForwardedFor).append(", ");
  out.append(extra.clientAddress).append("\r\n");
  return forwardedAt;
}

// What is the attempt's own: the request id, the backend's lines, the length.
void appendAttemptLines(std::string& out, const UpstreamRequestHead& extra) {
  appendField(out, "x-request-id", extra.requestId);
  if (extra.injected != nullptr)
    for (const auto& h : *extra.injected) appendField(out, h.name, h.value);
  if (extra.contentLength) {
    out.append("Content-Length: ");
    appendNumber(out, *extra.contentLength);
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void requestHead(std::string& out, const ProxyRequestHead& request, const UpstreamRequestHead& extra) {
  out.clear();
  appendRequestLine(out, request);
  appendField(out, "Host", extra.authority);
  appendClientLines(out, request, extra, extra.injected);
  appendAttemptLines(out, extra);
}

void keepRequestHead(KeptRequestHead& kept, const ProxyRequestHead& request, const UpstreamRequestHead& extra) {
  auto& text = kept.text;
  text.clear();
  appendRequestLine(text, request);
  kept.linesAt = static_cast<std::uint32_t>(text.size());
  kept.forwardedAt = static_cast<std::uint32_t>(appendClientLines(text, request, extra, nullptr));
}

// The same head as from the parsed request: the request line, Host, the kept
// lines but those this attempt's backend overrides (the previous attempt's
// backend may have overridden others), the forwarding line, the attempt's own.
void requestHead(std::string& out, const KeptRequestHead& kept, const UpstreamRequestHead& extra) {
  const std::string_view text = kept.text;
  out.clear();
  out.append(text.substr(0, kept.linesAt));
  appendField(out, "Host", extra.authority);
  auto lines = text.substr(kept.linesAt, kept.forwardedAt - kept.linesAt);
  while (!lines.empty()) {
    // Values hold no line ends: Beast joins an obsolete fold into one line.
    const auto end = lines.find("\r\n") + 2;
    const auto line = lines.substr(0, end);
    if (!overridden(extra.injected, line.substr(0, line.find(':')))) out.append(line);
    lines.remove_prefix(end);
  }
  out.append(text.substr(kept.forwardedAt));
  appendAttemptLines(out, extra);
}

void responseHead(std::string& out, const ProxyResponseHead& response, const DownstreamResponseHead& extra) {
  out.clear();
  out.append("HTTP/1.1 ");
  appendNumber(out, response.result_int());
  out.push_back(' ');
  auto reason = response.reason();
  if (reason.empty()) out.append(reasonPhrase(response.result_int()));
  else out.append(reason.data(), reason.size());
  out.append("\r\n");
  ConnectionTokens named(response);
  for (const auto& field : response) {
    const auto name = field.name();
    if (name == http::field::content_length) continue;
    if (headers::isHopByHop(name)) continue;
    const auto nameText = field.name_string();
    if (name == http::field::unknown && iequals(nameText, "x-request-id")) continue;
    if (named.contains(nameText)) continue;
    appendField(out, nameText, field.value());
  }
  appendField(out, "x-request-id", extra.requestId);
  out.append(extra.filterHeaders);
  switch (extra.framing) {
    case BodyFraming::ContentLength:
    case BodyFraming::None:
      if (extra.contentLength) {
        out.append("Content-Length: ");
        appendNumber(out, *extra.contentLength);
        out.append("\r\n");
      }
      break;
    case BodyFraming::Chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    case BodyFraming::CloseDelimited: break;
  }
  if (extra.close) out.append("Connection: close\r\n");
  out.append("\r\n");
}

void localReply(std::string& out, unsigned status, std::string_view requestId, std::string_view contentType,
                std::string_view body, bool close, unsigned retryAfterSeconds, std::string_view allow,
                std::string_view extraHeaders) {
  out.clear();
  out.append("HTTP/1.1 ");
  appendNumber(out, status);
  out.push_back(' ');
  out.append(reasonPhrase(status)).append("\r\n");
  appendField(out, "Content-Type", contentType);
  out.append("Content-Length: ");
  appendNumber(out, body.size());
  out.append("\r\n");
  if (!requestId.empty()) appendField(out, "x-request-id", requestId);
  if (retryAfterSeconds > 0) {
    out.append("Retry-After: ");
    appendNumber(out, retryAfterSeconds);
    out.append("\r\n");
  }
  if (!allow.empty()) appendField(out, "Allow", allow);
  out.append(extraHeaders);
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n").append(body);
}

std::size_t chunkPrefix(char* out, std::size_t size) {
  auto [end, ec] = std::to_chars(out, out + 18, size, 16);
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<std::size_t>(end + 2 - out);
}

}  // namespace infergate::writer
