#pragma once
// Buffers kept per connection to carry one message through (a JSON answer
// read for its usage, a sampled answer, a request or answer joined for TLS):
// when it has passed they keep at most a small capacity, so an idle
// keep-alive connection holds nothing of a long message. Memory follows the
// bytes in flight, not the connections; a short message's room is reused by
// the next one.
#include <cstddef>
#include <memory>
#include <string>

namespace infergate {

inline constexpr std::size_t kKeptCapacity = 4 * 1024;

inline void releaseIfLarge(std::string& buffer) {
  if (buffer.capacity() > kKeptCapacity) std::string().swap(buffer);
}

inline void clearKeepingSmall(std::string& buffer) {
  releaseIfLarge(buffer);
  buffer.clear();
}

// Such a buffer that most connections never use (a JSON answer's copy, on a
// connection that streams): 8 bytes until first used, then kept like any.
class OnDemandBuffer {
 public:
  // Empty, made if it was not.
  std::string& fresh() {
    if (!text_) text_ = std::make_unique<std::string>();
    text_->clear();
    return *text_;
  }
  // Only after fresh().
  std::string& operator*() { return *text_; }
  std::string* operator->() { return text_.get(); }
  std::size_t size() const { return text_ ? text_->size() : 0; }
  bool empty() const { return size() == 0; }
  std::size_t capacity() const { return text_ ? text_->capacity() : 0; }
  void releaseIfLarge() {
    if (text_) infergate::releaseIfLarge(*text_);
  }

 private:
  std::unique_ptr<std::string> text_;
};

}  // namespace infergate
