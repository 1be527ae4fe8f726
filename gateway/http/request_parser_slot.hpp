#pragma once
// Where a connection parses its requests: the parser, out of line.
//
// Why: a stream's answer lasts seconds to minutes, and once it has started no
// attempt sends the request again, so the stream gives the parser back (280
// bytes, with the block of its target) instead of carrying it for its life.
// A keep-alive connection keeps the block from one request to the next, so a
// steady connection allocates it once.
#include <memory>
#include <optional>

#include "filters/core/http_messages.hpp"

namespace infergate {

class RequestParserSlot {
 public:
  ProxyRequestParser& emplace() {
    if (!slot_) slot_ = std::make_unique<std::optional<ProxyRequestParser>>();
    return slot_->emplace();
  }
  void reset() {  // the request is over; the block stays for the next one
    if (slot_) slot_->reset();
  }
  void release() { slot_.reset(); }  // the block too
  explicit operator bool() const { return slot_ && slot_->has_value(); }
  ProxyRequestParser* operator->() { return &**slot_; }
  ProxyRequestParser& operator*() { return **slot_; }

 private:
  std::unique_ptr<std::optional<ProxyRequestParser>> slot_;
};

}  // namespace infergate
