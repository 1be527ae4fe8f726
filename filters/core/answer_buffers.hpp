#pragma once
// Buffers a filter keeps per connection to hold one answer while it passes
// (a JSON answer read for its usage, a sampled answer): when the answer is
// done they keep at most a small capacity, so an idle keep-alive connection
// holds nothing of a long answer. Memory follows the bytes in flight, not the
// connections; a short answer's capacity is reused by the next one.
#include <cstddef>
#include <string>

namespace infergate {

inline constexpr std::size_t kKeptAnswerBytes = 4 * 1024;

inline void clearAnswerBuffer(std::string& buffer) {
  if (buffer.capacity() > kKeptAnswerBytes) std::string().swap(buffer);
  else buffer.clear();
}

}  // namespace infergate
