#include "gateway/admin/samples_report.hpp"

#include <charconv>

#include "filters/core/errors.hpp"

namespace infergate {

namespace {
AdminResponse badRequest(std::string message, std::string_view param) {
  ErrorReply reply{400, "invalid_request_error", "invalid_query", std::move(message), param, {}};
  return {400, "application/json", openaiErrorBody(reply)};
}
}  // namespace

AdminResponse samplesResponse(const QualityPipeline& pipeline, std::string_view query) {
  std::size_t limit = 20;
  std::string flag;
  // key=value pairs joined by '&'. Both parameters take plain ASCII values
  // (a number, a flag name), so no percent-decoding is needed.
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "limit") {
      std::size_t v = 0;
      const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || v == 0 || v > 100'000)
        return badRequest("limit must be a positive integer", "limit");
      limit = v;
    } else if (key == "flag") {
      flag = value;
    }
  }
  AdminResponse response{200, "application/json", {}};
  if (!pipeline.samplesReport(limit, flag, response.body))
    return badRequest("unknown flag '" + flag + "'", "flag");
  return response;
}

}  // namespace infergate
