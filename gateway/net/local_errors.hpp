#pragma once
// Errors that say this process or host ran out of something (descriptors,
// socket buffers, ephemeral ports), not that a peer failed: an upstream
// connect that fails this way must not count against the endpoint, and an
// accept that fails this way should back off rather than spin.
#include <cerrno>

#include <boost/system/error_code.hpp>

namespace infergate {

inline bool isLocalResourceError(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case EMFILE:         // this process's descriptor limit
    case ENFILE:         // the system's
    case ENOBUFS:        // socket buffers
    case ENOMEM:
    case EADDRNOTAVAIL:  // no ephemeral port left for a connect
      return true;
    default:
      return false;
  }
}

}  // namespace infergate
