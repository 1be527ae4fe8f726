#include "gateway/request_facts.hpp"

namespace infergate {

bool isJsonApiPath(std::string_view path) {
  return path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/embeddings";
}

namespace {

// End of a JSON string token starting at `quote` (the opening quote), or npos.
std::size_t stringTokenEnd(std::string_view json, std::size_t quote) {
  for (std::size_t i = quote + 1; i < json.size(); ++i) {
    if (json[i] == '\\') ++i;
    else if (json[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

void extractRequestFacts(simdjson::ondemand::parser& parser, std::string& body, RequestFacts& facts) {
  facts.reset();
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::padded_string_view input(body.data(), body.size(), body.capacity());
  simdjson::ondemand::document doc;
  if (parser.iterate(input).get(doc) != simdjson::SUCCESS) {
    facts.error = "We could not parse the JSON body of your request.";
    return;
  }
  simdjson::ondemand::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    facts.error = "The request body must be a JSON object.";
    return;
  }
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      facts.error = "We could not parse the JSON body of your request.";
      return;
    }
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      facts.error = "We could not parse the JSON body of your request.";
      return;
    }
    if (key == "model") {
      std::string_view raw = value.raw_json_token();
      std::string_view model;
      if (value.get_string().get(model) != simdjson::SUCCESS) {
        facts.error = "'model' must be a string.";
        facts.errorParam = "model";
        return;
      }
      facts.hasModel = true;
      facts.model.assign(model);
      facts.modelTokenOffset = static_cast<std::size_t>(raw.data() - body.data());
      auto end = stringTokenEnd(body, facts.modelTokenOffset);
      if (end == std::string_view::npos) {
        facts.error = "We could not parse the JSON body of your request.";
        return;
      }
      facts.modelTokenLength = end - facts.modelTokenOffset;
    } else if (key == "stream_options") {
      facts.hasStreamOptions = true;
    } else if (key == "stream") {
      bool stream = false;
      if (value.get_bool().get(stream) != simdjson::SUCCESS) {
        facts.error = "'stream' must be a boolean.";
        facts.errorParam = "stream";
        return;
      }
      facts.stream = stream;
    }
    // Other values are skipped by the iterator; validation (a later filter) reads them.
  }
  // On-Demand only checks what it visits: insist the document ends after the object.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    facts.error = "We could not parse the JSON body of your request.";
    return;
  }
  facts.objectStart = body.find('{');
  facts.isJson = true;
}

}  // namespace infergate
