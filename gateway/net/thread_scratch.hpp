#pragma once
// The worker thread's scratch for bytes that only pass through: a read that
// waited lands here before what came is copied out (socket_read.hpp), a
// write's small pieces are joined here for one send (gathered_write.hpp).
// Each use ends before the function that made it returns, and neither calls
// the other, so one area serves both.
#include <cstddef>

namespace infergate {

inline constexpr std::size_t kThreadScratchBytes = 16 * 1024;

inline char* threadScratch() {
  thread_local char scratch[kThreadScratchBytes];
  return scratch;
}

}  // namespace infergate
