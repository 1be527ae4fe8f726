#include "gateway/response_usage.hpp"

namespace infergate {

ResponseUsage readResponseUsage(simdjson::ondemand::parser& parser, std::string& body) {
  ResponseUsage usage;
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(doc)) return usage;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return usage;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return usage;
    if (key != "usage") continue;
    simdjson::ondemand::object u;
    if (field.value().get_object().get(u)) return usage;
    for (auto f : u) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return usage;
      std::uint64_t v = 0;
      if (k == "prompt_tokens" && !f.value().get_uint64().get(v)) {
        usage.promptTokens = v;
        usage.found = true;
      } else if (k == "completion_tokens" && !f.value().get_uint64().get(v)) {
        usage.completionTokens = v;
        usage.found = true;
      }
    }
  }
  return usage;
}

}  // namespace infergate
