#pragma once
// Where a connection parses its message heads: the parser, out of line.
//
// Why: a stream lasts seconds to minutes, and nothing reads either head again
// once it is used: the request's once the request is sent (a retry writes its
// head from the text the exchange kept), the answer's once it is read. So the
// stream gives both parsers back (280 bytes each, with the request's target
// block) instead of carrying them for its life. A keep-alive connection keeps
// the blocks from one message to the next, so a steady connection allocates
// them once.
#include <memory>
#include <optional>

#include "filters/core/http_messages.hpp"

namespace infergate {

template <class Parser>
class ParserSlot {
 public:
  Parser& emplace() {
    if (!slot_) slot_ = std::make_unique<std::optional<Parser>>();
    return slot_->emplace();
  }
  void reset() {  // the message is over; the block stays for the next one
    if (slot_) slot_->reset();
  }
  void release() { slot_.reset(); }  // the block too
  explicit operator bool() const { return slot_ && slot_->has_value(); }
  Parser* operator->() { return &**slot_; }
  const Parser* operator->() const { return &**slot_; }
  Parser& operator*() { return **slot_; }

 private:
  std::unique_ptr<std::optional<Parser>> slot_;
};

using RequestParserSlot = ParserSlot<ProxyRequestParser>;
using ResponseParserSlot = ParserSlot<ProxyResponseParser>;

}  // namespace infergate
