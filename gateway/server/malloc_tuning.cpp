#include "gateway/server/malloc_tuning.hpp"

#include <malloc.h>

namespace infergate {

void tuneMalloc() {
#if defined(__GLIBC__)
  // Blocks up to 4 MiB come from the arenas (setting it also stops glibc from
  // moving it with each free); larger ones are mapped and unmapped.
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  // Free memory at the top of an arena is returned only past 64 MiB.
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
}

}  // namespace infergate
