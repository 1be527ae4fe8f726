#include "filters/core/response_usage.hpp"

namespace infergate {

void readUsageObject(simdjson::ondemand::object usage, ResponseUsage& out) {
  for (auto field : usage) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return;
    std::uint64_t value = 0;
    if (key == "prompt_tokens" && !field.value().get_uint64().get(value)) {
      out.promptTokens = value;
      out.found = true;
    } else if (key == "completion_tokens" && !field.value().get_uint64().get(value)) {
      out.completionTokens = value;
      out.found = true;
    }
  }
}

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
    if (!field.value().get_object().get(u)) readUsageObject(u, usage);
    return usage;
  }
  return usage;
}

}  // namespace infergate
