#pragma once
// What the gateway reads from a request body, parsed once with simdjson
// On-Demand (one parser per worker, the body padded at read time and never
// copied) and shared by routing, validation and, later, profiling and sampling.
// Parsing records the first rule the body breaks; whether that rejects the
// request is the route's validation mode's call.
#include <simdjson.h>

#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate {

// Why a request body breaks the OpenAI request rules: a fixed set (metric labels).
enum class InputViolation : std::uint8_t {
  None,
  InvalidJson,
  InvalidUtf8,
  DuplicateKey,
  MissingModel,
  InvalidModel,
  InvalidMessages,
  InvalidRole,
  InvalidContent,
  InvalidMaxTokens,
  InvalidTemperature,
  InvalidTopP,
  InvalidN,
  InvalidStream,
  InvalidStop,
  InvalidTools,
  InvalidResponseFormat,
  PromptTooLong,
  TooManyMessages,
  MaxTokensTooLarge,
  Count,
};

std::string_view violationName(InputViolation v);

constexpr std::size_t kMaxTokensKey = 0, kMaxCompletionTokensKey = 1;
constexpr std::string_view kTokenLimitKeyNames[2] = {"max_tokens", "max_completion_tokens"};

enum class ApiKind : std::uint8_t { Chat, Completion, Embedding };

struct RequestFacts {
  bool isJson = false;            // a JSON object: routable; violations may still apply
  bool hasModel = false;
  std::string model;              // unescaped; capacity reused across requests
  std::size_t modelTokenOffset = 0;  // byte range of the "model" value in the body, quotes included
  std::size_t modelTokenLength = 0;
  bool stream = false;
  bool hasStreamOptions = false;
  std::size_t objectStart = 0;       // offset of the body's opening '{'

  // Request shape, for validation limits (and profiling later).
  std::uint32_t messages = 0;
  std::uint64_t promptChars = 0;     // Unicode code points of all prompt text
  // The conversation's opening (the first kPrefixMessages chat messages:
  // usually the system prompt and the first user turn), hashed for prefix
  // affinity: requests that share it share the model server's prefix cache.
  // 0: none (not chat). Each message counts its role, length and first
  // kPrefixBytes bytes of text.
  static constexpr std::uint32_t kPrefixMessages = 2;
  static constexpr std::size_t kPrefixBytes = 512;
  std::uint64_t prefixHash = 0;
  bool hashingPrefix = false;        // while reading one of those messages
  // The token limits a client may send. Servers differ in which they read when
  // both are present, so caps apply to each and the profile takes the larger.
  struct TokenLimitKey {
    bool present = false;            // a positive integer
    bool null = false;               // null: the server's default, as if absent
    bool unreadable = false;         // present but not a positive integer (a violation)
    std::uint64_t value = 0;
    std::size_t tokenOffset = 0;     // byte range of its value (or null), for rewriting
    std::size_t tokenLength = 0;
  };
  std::array<TokenLimitKey, 2> tokenLimits{};  // [kMaxTokensKey], [kMaxCompletionTokensKey]
  bool hasMaxTokens = false;         // either is present
  std::uint64_t maxTokens = 0;       // the larger of those present
  std::uint32_t members = 0;         // top-level members of the body object

  // Profile inputs (see filters/profile/features.hpp).
  std::size_t bodyBytes = 0;
  std::uint64_t systemChars = 0;     // code points of system/developer messages
  std::uint64_t lastUserChars = 0;   // code points of the last user message
  std::uint8_t rolesSeen = 0;        // bit per role: 1 system, 2 user, 4 assistant, 8 tool
  bool hasTemperature = false;
  double temperature = 0;
  bool hasTopP = false;
  double topP = 0;
  std::uint32_t n = 1;
  std::uint32_t tools = 0;
  std::uint8_t responseFormat = 0;   // 0 absent, 1 text, 2 json_object, 3 json_schema
  // A bounded sample of prompt text (the first kScriptSampleBytes of each part).
  std::uint32_t sampledCodePoints = 0;
  std::uint32_t sampledNonAscii = 0;
  std::uint32_t scriptLatin = 0, scriptCjk = 0, scriptCyrillic = 0, scriptArabic = 0;

  InputViolation violation = InputViolation::None;  // the first rule broken
  std::string_view errorParam;       // the offending parameter, for the error body
  std::string error;                 // message for the client

  // Set when the body cannot be read one way only (repeated keys, not strict
  // JSON): refused whatever the route's validation mode.
  bool refused = false;

  void reset();
  void violate(InputViolation v, std::string_view param, std::string message);
  // Like violate, but replaces an earlier violation and marks the body refused.
  void refuse(InputViolation v, std::string_view param, std::string message);
};

// Paths whose bodies are OpenAI JSON requests.
bool isJsonApiPath(std::string_view path);
ApiKind apiKindOf(std::string_view path);

// Parses `body` in place and checks all of it (strict_json.hpp): a body that is
// not RFC 8259 JSON in every byte, nests deeper than kMaxJsonDepth or repeats a
// key the gateway reads is not JSON to the gateway (isJson false). The
// session's bodies carry the padding (BodyBytes::padded).
void extractRequestFacts(simdjson::ondemand::parser& parser, simdjson::padded_string_view body, RequestFacts& facts,
                         ApiKind api = ApiKind::Chat);
// The same for a string, whose capacity is grown once if it leaves less than
// SIMDJSON_PADDING bytes beyond its size (tests, benchmarks, the fuzzer).
void extractRequestFacts(simdjson::ondemand::parser& parser, std::string& body, RequestFacts& facts,
                         ApiKind api = ApiKind::Chat);

}  // namespace infergate
