#include "filters/core/request_body.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace infergate {

void BodyBytes::reserve(std::size_t n) {
  if (bytes_ && (capacity_ & kUnpadded) == 0 && n <= capacity_) return;
  n = std::max(n, size_);
  // Uninitialised on purpose (malloc): every byte up to size_ is written
  // before it is read, and the padding is never read as content.
  std::unique_ptr<char, Free> grown(static_cast<char*>(std::malloc(n + kPadding)));
  if (!grown) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(grown.get(), bytes_.get(), size_);
  bytes_ = std::move(grown);
  capacity_ = n;
}

void BodyBytes::dropPadding() {
  if (!bytes_ || (capacity_ & kUnpadded) || size_ == 0) return;
  // Shrinking keeps the block where it is (glibc), so this never fails in a
  // way that matters: a null answer leaves the block as it was.
  if (char* kept = static_cast<char*>(std::realloc(bytes_.get(), size_))) {
    (void)bytes_.release();
    bytes_.reset(kept);
    capacity_ = size_ | kUnpadded;
  }
}

void BodyBytes::assign(std::string_view text) {
  size_ = 0;
  append(text);
}

void BodyBytes::append(std::string_view text) {
  // Doubling for bodies that arrive without a declared length (chunked).
  if (text.size() > room()) reserve(std::max(size_ + text.size(), 2 * capacity()));
  if (!text.empty()) std::memcpy(spare(), text.data(), text.size());
  size_ += text.size();
}

std::size_t RequestBody::reader::take(const char* bytes, std::size_t n) {
  // The session read these bytes into place (BodyBytes::spare): only count them.
  if (n <= body_.room() && bytes == body_.spare()) body_.grow(n);
  else body_.append(std::string_view(bytes, n));
  return n;
}

}  // namespace infergate
