#include "gateway/samples_report.hpp"

#include <boost/url/parse_query.hpp>
#include <charconv>

#include "gateway/errors.hpp"

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
  if (!query.empty()) {
    auto params = boost::urls::parse_query(query);
    if (!params) return badRequest("malformed query string", "");
    for (const auto& p : *params) {
      if (p.key == "limit") {
        std::size_t v = 0;
        const auto r = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
        if (r.ec != std::errc() || r.ptr != p.value.data() + p.value.size() || v == 0 || v > 100'000)
          return badRequest("limit must be a positive integer", "limit");
        limit = v;
      } else if (p.key == "flag") {
        flag = p.value;
      }
    }
  }
  AdminResponse response{200, "application/json", {}};
  if (!pipeline.samplesReport(limit, flag, response.body))
    return badRequest("unknown flag '" + flag + "'", "flag");
  return response;
}

}  // namespace infergate
