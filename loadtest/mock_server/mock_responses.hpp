#pragma once
// OpenAI-compatible bodies the mock returns: chat and text completions (whole
// and as SSE chunks), embeddings, the model list, errors.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mock_behaviour.hpp"

namespace mock {

enum class Api { Chat, Completion };

struct RequestInfo {
  Api api = Api::Chat;
  std::string model = "mock-model";
  bool stream = false;
  bool includeUsage = false;
  unsigned promptTokens = 0;
  bool base64Embeddings = false;  // encoding_format: "base64" (the openai SDK's default)
};

// Reads model / stream / stream_options.include_usage; tolerant of anything else.
RequestInfo inspectRequest(std::string& body, Api api);

// With deterministic output, `created` is fixed so identical requests get identical bytes.
void setDeterministic(bool on);
std::uint64_t bodyHash(std::string_view body);

std::string_view tokenText(unsigned index);  // the index-th generated word, with a trailing space

// The index-th piece of text in an output mode (empty past the end of a fixed
// answer); for Output::Given, the index-th of the pieces given.
std::string_view outputToken(Output output, unsigned index, const std::vector<std::string>& given = {});
std::string_view finishReasonFor(Output output);
std::string completionBody(const RequestInfo& info, unsigned tokens, std::uint64_t id, Output output = Output::Normal,
                           const std::vector<std::string>& given = {});
std::string streamChunk(const RequestInfo& info, std::uint64_t id, std::string_view content, bool first);
std::string streamFinalChunk(const RequestInfo& info, std::uint64_t id, std::string_view finishReason);
std::string streamUsageChunk(const RequestInfo& info, std::uint64_t id, unsigned tokens);
std::string embeddingsBody(const RequestInfo& info);
std::string modelsBody();
std::string errorBody(unsigned status, std::string_view message);

}  // namespace mock
