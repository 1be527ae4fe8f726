#include "filters/server_timing/server_timing_filter.hpp"

#include <charconv>
#include <cstdint>

namespace infergate {

namespace {

// Microseconds written as milliseconds with three decimals ("25.000"), by
// integer conversions: std::to_chars of a double cost about 100 instructions
// a call, twice on every response. A negative span (clocks read out of
// order) is written as 0.
char* appendMilliseconds(char* p, char* end, std::int64_t us) {
  if (us < 0) us = 0;
  p = std::to_chars(p, end, us / 1000).ptr;
  const auto fraction = static_cast<int>(us % 1000);
  *p++ = '.';
  *p++ = static_cast<char>('0' + fraction / 100);
  *p++ = static_cast<char>('0' + fraction / 10 % 10);
  *p++ = static_cast<char>('0' + fraction % 10);
  return p;
}

}  // namespace

bool ServerTimingFilter::onResponseHeaders(RequestContext& ctx) {
  const auto& r = *ctx.record;
  const auto now = RequestRecord::Clock::now();
  auto us = [](RequestRecord::Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::int64_t upstream = us(r.firstByte - r.requestSent);
  if (r.newConnection) upstream += us(r.upstreamConnected - r.upstreamStart);
  const std::int64_t gateway = us(r.upstreamStart - r.bodyRead) + us(r.requestSent - r.upstreamConnected) +
                               us(now - r.firstByte);
  // Two 64-bit numbers of at most 20 digits each, the texts and the CRLF.
  char buf[128];
  char* p = buf;
  auto append = [&p](std::string_view text) {
    for (char c : text) *p++ = c;
  };
  append("Server-Timing: upstream;dur=");
  p = appendMilliseconds(p, buf + 64, upstream);
  append(", gateway;dur=");
  p = appendMilliseconds(p, buf + sizeof buf - 8, gateway);
  append("\r\n");
  ctx.responseHeaders.append(buf, static_cast<std::size_t>(p - buf));
  return false;
}

}  // namespace infergate
