#include "filters/core/errors.hpp"

#include <cstdio>

namespace infergate {

std::string_view causeName(FailureCause cause) {
  switch (cause) {
    case FailureCause::None: return "none";
    case FailureCause::ClientInvalidRequest: return "client_invalid_request";
    case FailureCause::ClientDisconnect: return "client_disconnect";
    case FailureCause::NoRoute: return "no_route";
    case FailureCause::RequestTooLarge: return "request_too_large";
    case FailureCause::HeaderTooLarge: return "header_too_large";
    case FailureCause::HeaderTimeout: return "header_timeout";
    case FailureCause::BodyTimeout: return "body_timeout";
    case FailureCause::UpstreamConnectError: return "upstream_connect_error";
    case FailureCause::UpstreamTlsError: return "upstream_tls_error";
    case FailureCause::UpstreamConnectTimeout: return "upstream_connect_timeout";
    case FailureCause::UpstreamFirstTokenTimeout: return "upstream_first_token_timeout";
    case FailureCause::UpstreamIdleTimeout: return "upstream_idle_timeout";
    case FailureCause::UpstreamTotalTimeout: return "upstream_total_timeout";
    case FailureCause::UpstreamReset: return "upstream_reset";
    case FailureCause::UpstreamProtocolError: return "upstream_protocol_error";
    case FailureCause::Upstream5xx: return "upstream_5xx";
    case FailureCause::CircuitOpen: return "circuit_open";
    case FailureCause::Overloaded: return "overloaded";
    case FailureCause::GatewayResources: return "gateway_resources_exhausted";
    case FailureCause::ClientUnauthorized: return "client_unauthorized";
    case FailureCause::ClientForbidden: return "client_forbidden";
    case FailureCause::RateLimited: return "rate_limited";
    case FailureCause::RateLimitStoreDown: return "rate_limit_store_down";
    case FailureCause::Draining: return "draining";
    case FailureCause::Count: break;
  }
  return "unknown";
}

ErrorReply errorFor(FailureCause cause, std::string message) {
  ErrorReply r;
  r.cause = cause;
  auto set = [&](unsigned status, std::string_view type, std::string_view code, const char* fallback) {
    r.status = status;
    r.type = type;
    r.code = code;
    r.message = message.empty() ? std::string(fallback) : std::move(message);
  };
  switch (cause) {
    case FailureCause::ClientInvalidRequest:
      set(400, "invalid_request_error", "invalid_request", "The request is malformed.");
      break;
    case FailureCause::NoRoute:
      set(404, "invalid_request_error", "route_not_found", "No route matches this path and model.");
      break;
    case FailureCause::RequestTooLarge:
      set(413, "invalid_request_error", "request_too_large", "The request body exceeds the gateway's limit.");
      break;
    case FailureCause::HeaderTooLarge:
      set(431, "invalid_request_error", "header_too_large", "The request header exceeds the gateway's limit.");
      break;
    case FailureCause::HeaderTimeout:
      set(408, "invalid_request_error", "request_timeout", "The request header was not received in time.");
      break;
    case FailureCause::BodyTimeout:
      set(408, "invalid_request_error", "request_timeout", "The request body was not received in time.");
      break;
    case FailureCause::UpstreamConnectError:
      set(502, "upstream_error", "upstream_connect_error", "The model server could not be reached.");
      break;
    case FailureCause::UpstreamTlsError:
      set(502, "upstream_error", "upstream_tls_error", "A secure connection to the model server could not be made.");
      break;
    case FailureCause::UpstreamConnectTimeout:
      set(504, "upstream_error", "upstream_connect_timeout", "Connecting to the model server timed out.");
      break;
    case FailureCause::UpstreamFirstTokenTimeout:
      set(504, "upstream_error", "upstream_first_token_timeout",
          "The model server did not start answering in time.");
      break;
    case FailureCause::UpstreamIdleTimeout:
      set(504, "upstream_error", "upstream_idle_timeout", "The model server stopped sending data.");
      break;
    case FailureCause::UpstreamTotalTimeout:
      set(504, "upstream_error", "upstream_total_timeout", "The model server did not finish in time.");
      break;
    case FailureCause::UpstreamReset:
      set(502, "upstream_error", "upstream_reset", "The model server closed the connection unexpectedly.");
      break;
    case FailureCause::UpstreamProtocolError:
      set(502, "upstream_error", "upstream_protocol_error", "The model server sent an invalid HTTP response.");
      break;
    case FailureCause::Upstream5xx:
      set(502, "upstream_error", "upstream_5xx", "The model server failed.");
      break;
    case FailureCause::ClientUnauthorized:
      set(401, "invalid_request_error", "invalid_api_key", "Incorrect or missing API key.");
      break;
    case FailureCause::ClientForbidden:
      set(403, "invalid_request_error", "model_not_allowed", "This API key may not use this route or model.");
      break;
    case FailureCause::RateLimited:
      set(429, "requests", "rate_limit_exceeded", "Rate limit reached. Retry after the time in Retry-After.");
      break;
    case FailureCause::RateLimitStoreDown:
      set(503, "server_error", "rate_limit_store_unavailable",
          "The gateway cannot check its rate limits now. Retry shortly.");
      break;
    case FailureCause::Draining:
      set(503, "server_error", "draining", "The gateway is shutting down; retry, another replica will answer.");
      break;
    case FailureCause::CircuitOpen:
      set(503, "server_error", "circuit_open", "Every model server for this route is temporarily unavailable.");
      break;
    case FailureCause::Overloaded:
      set(503, "server_error", "overloaded", "The model servers for this route are at capacity.");
      break;
    case FailureCause::GatewayResources:
      // The gateway's own overload: the same answer to the client as a full backend.
      set(503, "server_error", "overloaded", "The gateway is at capacity; retry shortly.");
      break;
    case FailureCause::ClientDisconnect:
    case FailureCause::None:
    case FailureCause::Count:
      set(500, "server_error", "internal_error", "Internal gateway error.");
      break;
  }
  return r;
}

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string openaiErrorBody(const ErrorReply& reply) {
  std::string body;
  body.reserve(160 + reply.message.size());
  body += "{\"error\":{\"message\":";
  appendJsonString(body, reply.message);
  body += ",\"type\":";
  appendJsonString(body, reply.type);
  body += ",\"param\":";
  if (reply.param.empty()) body += "null";
  else appendJsonString(body, reply.param);
  body += ",\"code\":";
  appendJsonString(body, reply.code);
  body += "}}";
  return body;
}

std::string_view reasonPhrase(unsigned status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace infergate
