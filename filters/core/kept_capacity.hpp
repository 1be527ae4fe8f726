#pragma once
// Buffers kept per connection to carry one message through (a JSON answer
// read for its usage, a sampled answer, a request or answer joined for TLS):
// when it has passed they keep at most a small capacity, so an idle
// keep-alive connection holds nothing of a long message. Memory follows the
// bytes in flight, not the connections; a short message's room is reused by
// the next one.
#include <cstddef>
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

}  // namespace infergate
