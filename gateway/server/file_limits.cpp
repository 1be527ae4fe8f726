#include "gateway/server/file_limits.hpp"

#include <sys/resource.h>

namespace infergate {

std::uint64_t raiseOpenFilesLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(limit.rlim_cur);
}

std::uint64_t streamsAllowedBy(std::uint64_t openFiles) {
  constexpr std::uint64_t kReserve = 64;
  return openFiles > kReserve ? (openFiles - kReserve) / 2 : 0;
}

}  // namespace infergate
