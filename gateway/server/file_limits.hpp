#pragma once
// The open-files limit: every client connection and every upstream connection
// holds a descriptor, so it caps the streams the gateway can carry.
#include <cstdint>

namespace infergate {

// Raises the soft RLIMIT_NOFILE to the hard limit (as HAProxy does) and
// returns the limit in force.
std::uint64_t raiseOpenFilesLimit();

// Streams the limit allows: two descriptors each (client and upstream), less
// a reserve for listeners, the admin port, pools and files.
std::uint64_t streamsAllowedBy(std::uint64_t openFiles);

}  // namespace infergate
