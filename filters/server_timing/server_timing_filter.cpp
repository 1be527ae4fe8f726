#include "filters/server_timing/server_timing_filter.hpp"

#include <algorithm>
#include <charconv>

namespace infergate {

bool ServerTimingFilter::onResponseHeaders(RequestContext& ctx) {
  const auto& r = *ctx.record;
  const auto now = RequestRecord::Clock::now();
  auto ms = [](RequestRecord::Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  double upstream = ms(r.firstByte - r.requestSent);
  if (r.newConnection) upstream += ms(r.upstreamConnected - r.upstreamStart);
  const double gateway =
      ms(r.upstreamStart - r.bodyRead) + ms(r.requestSent - r.upstreamConnected) + ms(now - r.firstByte);
  // std::to_chars, not snprintf: this runs on every response.
  char buf[128];
  char* p = buf;
  auto append = [&p](std::string_view text) { p = std::copy(text.begin(), text.end(), p); };
  append("Server-Timing: upstream;dur=");
  p = std::to_chars(p, buf + 64, upstream, std::chars_format::fixed, 3).ptr;
  append(", gateway;dur=");
  p = std::to_chars(p, buf + sizeof buf - 2, std::max(0.0, gateway), std::chars_format::fixed, 3).ptr;
  append("\r\n");
  ctx.responseHeaders.append(buf, static_cast<std::size_t>(p - buf));
  return false;
}

}  // namespace infergate
