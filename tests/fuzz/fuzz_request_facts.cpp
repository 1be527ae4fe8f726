// Request bodies through the gateway's one reading (facts, strict check,
// route limits) and its rewrite. Properties: a body the gateway accepts is
// JSON to a strict parser (Boost.JSON) and means the same model to it; the
// rewritten body is JSON too, and every token limit in it is within the cap.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "gateway/upstream/body_edits.hpp"
#include "filters/validation/input_limits.hpp"
#include "filters/core/request_facts.hpp"

using namespace infergate;

namespace {
constexpr std::uint64_t kCap = 64;

boost::json::value strictParse(const std::string& text, bool& ok) {
  boost::json::parse_options options;
  options.max_depth = 1 << 20;  // the gateway bounds depth itself; this parser must not refuse for it
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  // Boost.JSON refuses exponents past its own range (0e0000000100005 is
  // RFC 8259 JSON, and 0 to simdjson and Python): its limit, not the grammar.
  ok = !ec || ec == boost::json::error::exponent_overflow;
  return value;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto api = static_cast<ApiKind>(data[0] % 3);
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  static simdjson::ondemand::parser parser;
  RequestFacts facts;
  extractRequestFacts(parser, body, facts, api);
  if (!facts.isJson) return 0;

  bool ok = false;
  const auto doc = strictParse(body, ok);
  FUZZ_CHECK(ok, "the gateway accepted a body a strict parser refuses");
  if (!doc.is_object()) return 0;  // an exponent Boost.JSON could not hold: nothing more to compare
  if (facts.hasModel) {
    const auto* model = doc.as_object().if_contains("model");
    FUZZ_CHECK(model != nullptr && model->is_string() && std::string(model->as_string()) == facts.model,
               "the gateway read model '%s', a strict parser another", facts.model.c_str());
  }

  config::ValidationConfig limits;
  limits.max_tokens_cap = kCap;
  limits.clamp_max_tokens = true;
  TokenLimitRewrite rewrite;
  applyRouteLimits(limits, api, facts, rewrite);
  BodyEdits edits;
  edits.plan(facts, true, "renamed/model", rewrite);
  const std::string edited = edits.apply(body);
  FUZZ_CHECK(edits.editedSize(body.size()) == edited.size(), "Content-Length would not match the edited body");
  const auto out = strictParse(edited, ok);
  FUZZ_CHECK(ok, "the rewritten body is not JSON");
  if (!out.is_object()) return 0;
  const auto& object = out.as_object();
  bool anyLimit = false;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    const auto* v = object.if_contains(key);
    if (v == nullptr || v->is_null()) continue;
    anyLimit = true;
    if (api == ApiKind::Embedding) continue;
    FUZZ_CHECK(v->is_int64() || v->is_uint64(), "%s is not an integer after the rewrite", key);
    FUZZ_CHECK(v->to_number<double>() <= static_cast<double>(kCap), "%s is over the cap after the rewrite", key);
  }
  if (api != ApiKind::Embedding && facts.members > 0)
    FUZZ_CHECK(anyLimit, "no token limit after the rewrite: the cap is escaped");
  if (facts.hasModel) FUZZ_CHECK(object.at("model").as_string() == "renamed/model", "model not renamed");
  return 0;
}
