#pragma once
// Request framing checks that Beast 1.81 does not make by itself. Request
// smuggling lives in the gaps between how a proxy and a backend frame a message,
// so anything ambiguous is rejected with 400 and the connection is closed.
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "filters/core/http_messages.hpp"

namespace infergate::framing {

// Offset just past the "\r\n\r\n" ending a request head in `data`, or 0 if the
// head is not complete yet. `from` lets a caller resume a scan after more bytes.
std::size_t findHeadEnd(std::string_view data, std::size_t from = 0);

// Why the bytes of a request head not yet complete can never become a valid
// one, or empty while they still may: a request line that is not `token SP
// target SP HTTP/d.d`, or a line ended by a bare LF. `from` is where the last
// call stopped (bytes before it were checked then).
std::string_view incompleteHeadProblem(std::string_view data, std::size_t from = 0);

// True when a header line continues on the next line (obs-fold, RFC 9112 §5.2).
bool hasObsFold(std::string_view head);

// Checks a parsed request header. Returns an empty string when acceptable, else
// the reason to reject it (safe to show to the client).
std::string checkRequestHeader(const ProxyRequestHead& header);

}  // namespace infergate::framing
