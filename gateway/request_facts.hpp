#pragma once
// What the gateway reads from a request body, parsed once with simdjson
// On-Demand and shared by routing (and, in later stages, validation, profiling
// and sampling).
#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace infergate {

struct RequestFacts {
  bool isJson = false;            // the body is a JSON object
  bool hasModel = false;
  std::string model;              // unescaped; capacity reused across requests
  std::size_t modelTokenOffset = 0;  // byte range of the "model" value in the body, quotes included
  std::size_t modelTokenLength = 0;
  bool stream = false;
  bool hasStreamOptions = false;
  std::size_t objectStart = 0;       // offset of the body's opening '{'
  std::string error;              // why the body is not acceptable JSON, for a 400
  std::string_view errorParam;

  void reset() {
    isJson = hasModel = stream = hasStreamOptions = false;
    objectStart = 0;
    model.clear();
    modelTokenOffset = modelTokenLength = 0;
    error.clear();
    errorParam = {};
  }
};

// Paths whose bodies are OpenAI JSON requests.
bool isJsonApiPath(std::string_view path);

// Parses `body` in place. The string's capacity must leave SIMDJSON_PADDING bytes
// beyond its size (callers reserve it when reading), else it is grown once.
void extractRequestFacts(simdjson::ondemand::parser& parser, std::string& body, RequestFacts& facts);

}  // namespace infergate
