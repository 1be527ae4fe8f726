#pragma once
// Failure causes (a fixed set, so they can be metric labels) and OpenAI-style
// error replies: {"error":{"message","type","param","code"}}.
#include <string>
#include <string_view>

namespace infergate {

enum class FailureCause {
  None,
  ClientInvalidRequest,
  ClientDisconnect,
  NoRoute,
  RequestTooLarge,
  HeaderTooLarge,
  HeaderTimeout,
  BodyTimeout,
  UpstreamConnectError,
  UpstreamTlsError,   // the TLS handshake with an https:// endpoint failed or timed out (502)
  UpstreamConnectTimeout,
  UpstreamFirstTokenTimeout,
  UpstreamIdleTimeout,
  UpstreamTotalTimeout,
  UpstreamReset,
  UpstreamProtocolError,
  Upstream5xx,        // the model server answered 5xx (relayed as is)
  CircuitOpen,        // every endpoint that could serve is ejected
  Overloaded,         // the backend's concurrency cap is reached
  GatewayResources,   // the gateway itself ran out of descriptors, buffers or ports (not the endpoint's fault)
  ClientUnauthorized, // no API key, a malformed, unknown or expired one (401)
  ClientForbidden,    // a valid API key outside its routes or models (403)
  RateLimited,        // over a configured rate limit, token budget or concurrency cap (429)
  RateLimitStoreDown, // the shared rate-limit store did not answer and on_failure is fail_closed (503)
  Draining,           // cut when server.drain_timeout ran out during shutdown (503, or an SSE error event)
  Count,              // not a cause: the number of them
};

std::string_view causeName(FailureCause cause);

// A reply the gateway produces itself.
struct ErrorReply {
  unsigned status = 500;
  std::string_view type;     // invalid_request_error, gateway_timeout, upstream_error, ...
  std::string_view code;     // machine-readable, stable
  std::string message;       // human-readable; never contains secrets or request content
  std::string_view param;    // offending request parameter, empty = null
  std::string_view allow;    // 405: the methods the path takes (the Allow header)
  FailureCause cause = FailureCause::None;
};

ErrorReply errorFor(FailureCause cause, std::string message = {});

// JSON body of an error reply. `requestId` is included in the message for support.
std::string openaiErrorBody(const ErrorReply& reply);
// The JSON string body escaped for inclusion in a JSON document, quotes included.
void appendJsonString(std::string& out, std::string_view text);

std::string_view reasonPhrase(unsigned status);

}  // namespace infergate
