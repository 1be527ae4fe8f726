#pragma once
// A request whose chain a filter paused (onRequest returned Pause) while it
// waits for an answer from elsewhere, such as a shared rate-limit store.
// Holding it keeps the connection's session alive; the session may still have
// moved on (the client left, the worker is stopping), which context() tells.
// Used on the worker's thread only.
#include <cstdint>
#include <memory>
#include <utility>

#include "filters/filter.hpp"

namespace infergate {

// The side that runs the chain (the session).
class RequestPauser {
 public:
  virtual ~RequestPauser() = default;
  // The paused request's context, or null when `serial` is no longer paused.
  virtual RequestContext* pausedContext(std::uint64_t serial) = 0;
  // Runs the rest of the chain with the paused filter's verdict.
  virtual void resumeRequest(std::uint64_t serial, FilterStatus status) = 0;
  virtual std::shared_ptr<RequestPauser> holdPaused() = 0;
};

class PausedRequest {
 public:
  PausedRequest() = default;
  // Taken in onRequest just before returning Pause.
  explicit PausedRequest(RequestContext& ctx) : owner_(ctx.pauser->holdPaused()), serial_(ctx.serial) {}

  RequestContext* context() const { return owner_ ? owner_->pausedContext(serial_) : nullptr; }
  // Once; with the filter's state and ctx.reply already set for `status`.
  void resume(FilterStatus status) {
    if (auto owner = std::exchange(owner_, nullptr)) owner->resumeRequest(serial_, status);
  }

 private:
  std::shared_ptr<RequestPauser> owner_;
  std::uint64_t serial_ = 0;
};

}  // namespace infergate
