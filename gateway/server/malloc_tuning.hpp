#pragma once
// How glibc's allocator treats the large, short-lived buffers of the request
// path (request bodies of hundreds of kilobytes, relay buffers).

namespace infergate {

// Fixes the mmap threshold and raises the trim threshold, once at start, before
// the workers exist. With glibc's defaults, a freed 200 KB body at the top of a
// worker's arena is handed back to the kernel (madvise) and the next one
// faults its pages in again: about 3 page faults per 200 KB request, 10% of
// the proxy's CPU on this host (perf, chat_200k). Memory the gateway frees is
// kept for reuse instead; what it can hold is bounded by the body budget and
// the connection caps, not by trimming.
void tuneMalloc();

}  // namespace infergate
