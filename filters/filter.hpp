#pragma once
// The request path's extension point. Every feature that looks at or changes a
// request or its answer is a Filter; the session and the upstream exchange know
// only the chain, never a particular filter (see docs/architecture.md).
//
// Phases, in the spirit of Envoy's HTTP filters and Pingora's ProxyHttp:
//   onRequest          whole request read and parsed once (RequestFacts); in
//                      chain order; a filter may answer locally and stop it,
//                      or pause the chain while it waits for a round trip (a
//                      shared rate-limit store) and resume it later
//   onResponseHeaders  the upstream answer's head; reverse order; a filter may
//                      add header lines and asks for the body pieces it needs
//   onResponseData     each piece as it is relayed to the client (never the
//                      whole body); reverse order; only filters that asked
//   onResponseEnd      the answer is over, whole or cut; reverse order
//   onComplete         the request is done and its RequestRecord final; in
//                      chain order (completion observers: metrics, access log)
// Filters are built once per route when the config is resolved, shared by all
// workers and immutable: per-request state lives in the request's context
// (see StatefulFilter), statistics in the worker's shard of each filter's
// typed families (metrics/stats.hpp, recorded with ctx.worker).
#include <simdjson.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "filters/core/body_rewrite.hpp"
#include "filters/core/errors.hpp"
#include "filters/core/http_messages.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/core/request_record.hpp"

namespace infergate {

// Pause: the filter took a PausedRequest (filters/paused_request.hpp) and
// will resume the chain on the worker's thread, with Continue or LocalReply.
enum class FilterStatus : std::uint8_t { Continue, LocalReply, Pause };

class RequestPauser;

// A reply a filter gives instead of forwarding: an OpenAI-style error, or
// (`body` set) a JSON answer of the gateway's own with `error.status`.
struct LocalReply {
  ErrorReply error;
  std::string body;
  std::string headers;              // "Name: value\r\n" lines to add (x-ratelimit-*)
  unsigned retryAfterSeconds = 0;   // Retry-After, when not 0
};

// The answer's head as the filters see it.
struct ResponseHead {
  unsigned status = 0;
  bool eventStream = false;  // text/event-stream
  bool json = false;         // application/json
  bool hasBody = false;      // not HEAD, 204 or 304
  bool complete = false;     // at onResponseEnd: the whole answer arrived
};

// Everything a filter sees of one request, from its head to its completion.
// Owned by the connection's session and reused request after request.
struct RequestContext {
  using Clock = RequestRecord::Clock;

  // ---- the request (valid until onComplete returns) ----
  // Head and whole body; null once a stream's request is sent (its head is
  // not kept while it waits for its model): filters that run later read `body`.
  const ProxyRequestMessage* message = nullptr;
  const BodyBytes* body = nullptr;  // the request body, until onComplete returns
  std::string_view path;                          // target without the query
  std::string_view requestId;
  std::string_view clientAddress;                 // the peer's IP address as text
  RequestFacts* facts = nullptr;
  RequestRecord* record = nullptr;
  TokenLimitRewrite tokenLimits;                  // body rewrite the exchange carries out
  // (The small members share one word: every open stream keeps a context.)
  bool jsonApi = false;                           // an OpenAI JSON endpoint: facts were parsed
  ApiKind api = ApiKind::Chat;
  bool dropClientCredentials = false;             // the client's API key was infergate's: never forward it
  std::uint8_t pausedAt = 0;                      // owned by the chain: the onRequest position that paused

  // ---- the worker running the request ----
  unsigned worker = 0;                            // its index: the shard filters record their stats in
  simdjson::ondemand::parser* json = nullptr;     // the worker's JSON parser

  // ---- set by a filter that answers locally (fail or answer) ----
  // Made by the first local reply on the connection and reused after: most
  // requests never have one, and every stream would carry 184 idle bytes.
  std::unique_ptr<LocalReply> reply;

  // ---- the response ----
  ResponseHead response;
  std::string responseHeaders;  // "Name: value\r\n" lines filters add to the client's head
  Clock::time_point pieceArrived{};  // when the bytes being relayed arrived

  // ---- owned by the chain ----
  std::byte* states = nullptr;  // per-request filter state (FilterStates)
  std::uint64_t wantsData = 0;  // filters (by chain position) that asked for body pieces

  // ---- for a filter that pauses (the session) ----
  RequestPauser* pauser = nullptr;
  std::uint64_t serial = 0;     // this request's number on its connection

  // Fills `reply` with an error and returns LocalReply, for `return ctx.fail(...)`.
  FilterStatus fail(ErrorReply error) {
    auto& r = freshReply();
    r.error = std::move(error);
    return FilterStatus::LocalReply;
  }
  FilterStatus answer(unsigned status, std::string body) {
    auto& r = freshReply();
    r.error.status = status;
    r.body = std::move(body);
    return FilterStatus::LocalReply;
  }

 private:
  LocalReply& freshReply() {
    if (!reply) reply = std::make_unique<LocalReply>();
    reply->error = ErrorReply{};
    reply->body.clear();
    reply->headers.clear();
    reply->retryAfterSeconds = 0;
    return *reply;
  }
};

// How a filter's per-request state is laid out in a connection's FilterStates:
// constructed once per connection, reset at the start of every request,
// destroyed with the connection (no allocation per request or per filter).
struct StateLayout {
  std::size_t size = 0;
  std::size_t align = 1;
  void (*construct)(void*) = nullptr;
  void (*reset)(void*) = nullptr;
  void (*destroy)(void*) = nullptr;
};

// The phases a filter takes part in: the chain calls a filter only in these.
enum Phase : std::uint8_t {
  kOnRequest = 1,
  kOnResponseHeaders = 2,  // and onResponseData, when it asks for the body
  kOnResponseEnd = 4,
  kOnComplete = 8,
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // A mask of Phase: which of the methods below this filter overrides.
  virtual std::uint8_t phases() const = 0;

  virtual FilterStatus onRequest(RequestContext& ctx) { return FilterStatus::Continue; }
  // Returns true to receive this answer's body pieces.
  virtual bool onResponseHeaders(RequestContext& ctx) { return false; }
  virtual void onResponseData(RequestContext& ctx, std::string_view piece) {}
  virtual void onResponseEnd(RequestContext& ctx) {}
  virtual void onComplete(RequestContext& ctx) {}

  virtual StateLayout stateLayout() const { return {}; }
  // Set by FilterSet: where this filter's state sits in a FilterStates block.
  void setStateOffset(std::size_t offset) { stateOffset_ = offset; }
  std::size_t stateOffset() const { return stateOffset_; }

 private:
  std::size_t stateOffset_ = 0;
};

// A filter with per-request state `State` (default-constructible, with reset()).
template <class State>
class StatefulFilter : public Filter {
 public:
  StateLayout stateLayout() const final {
    return {sizeof(State), alignof(State), [](void* p) { new (p) State(); },
            [](void* p) { static_cast<State*>(p)->reset(); }, [](void* p) { static_cast<State*>(p)->~State(); }};
  }

 protected:
  State& state(RequestContext& ctx) const { return *std::launder(reinterpret_cast<State*>(ctx.states + stateOffset())); }
};

}  // namespace infergate
