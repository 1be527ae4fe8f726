#include "filters/core/request_facts.hpp"

#include <functional>

#include "filters/core/prompt_text.hpp"
#include "filters/core/strict_json.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>


namespace infergate {

namespace ondemand = simdjson::ondemand;

std::string_view violationName(InputViolation v) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(InputViolation::Count)> kNames = {
      "none",           "invalid_json",       "invalid_utf8",  "duplicate_key", "missing_model",      "invalid_model",
      "invalid_messages", "invalid_role",     "invalid_content", "invalid_max_tokens", "invalid_temperature",
      "invalid_top_p",  "invalid_n",          "invalid_stream", "invalid_stop",       "invalid_tools",
      "invalid_response_format", "prompt_too_long", "too_many_messages", "max_tokens_too_large"};
  return kNames[static_cast<std::size_t>(v)];
}

bool isJsonApiPath(std::string_view path) {
  return path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/embeddings";
}

ApiKind apiKindOf(std::string_view path) {
  if (path == "/v1/completions") return ApiKind::Completion;
  if (path == "/v1/embeddings") return ApiKind::Embedding;
  return ApiKind::Chat;
}

void RequestFacts::reset() {
  bodyBytes = 0;
  systemChars = lastUserChars = 0;
  rolesSeen = 0;
  hasTemperature = hasTopP = false;
  temperature = topP = 0;
  n = 1;
  tools = 0;
  responseFormat = 0;
  sampledCodePoints = sampledNonAscii = scriptLatin = scriptCjk = scriptCyrillic = scriptArabic = 0;
  isJson = hasModel = stream = hasStreamOptions = hasMaxTokens = false;
  model.clear();
  modelTokenOffset = modelTokenLength = objectStart = 0;
  messages = 0;
  promptChars = maxTokens = 0;
  prefixHash = 0;
  hashingPrefix = false;
  tokenLimits = {};
  members = 0;
  violation = InputViolation::None;
  refused = false;
  errorParam = {};
  error.clear();
}

void RequestFacts::refuse(InputViolation v, std::string_view param, std::string message) {
  if (refused) return;
  refused = true;
  violation = InputViolation::None;
  violate(v, param, std::move(message));
}

void RequestFacts::violate(InputViolation v, std::string_view param, std::string message) {
  if (violation != InputViolation::None) return;  // the first one is reported
  violation = v;
  errorParam = param;
  error = std::move(message);
}

namespace {

// A prompt string value: its text counted and sampled. A long one's place in
// the body is noted for the nesting check.
constexpr std::size_t kNotedStringBytes = 256;

// Mixes a piece of an opening message into the prefix hash: its length and first bytes.
void hashPrefix(RequestFacts& facts, std::string_view piece) {
  const auto bytes = piece.substr(0, RequestFacts::kPrefixBytes);
  facts.prefixHash = (facts.prefixHash ^ std::hash<std::string_view>{}(bytes)) * 0x100000001b3ull + piece.size();
}

// Long prompt strings as they stand in the body, in document order (the first
// few): already checked, so the strict check at the end of the same
// extraction need not read them again. Kept per thread, not in RequestFacts:
// a connection keeps its facts for its life, and these 136 bytes were read
// only before the request left.
struct NotedStrings {
  std::array<std::string_view, 8> regions{};
  std::uint8_t count = 0;
};
thread_local NotedStrings notedStrings;

bool readPromptString(ondemand::value value, RequestFacts& facts, std::uint64_t& chars) {
  std::string_view raw = value.raw_json_token();  // before get_string consumes the value
  if (facts.hashingPrefix) hashPrefix(facts, raw);
  if (raw.size() >= kNotedStringBytes) {
    // A long prompt is read escaped, never unescaped whole (prompt_text.hpp);
    // its escapes are checked there, so the strict check skips it.
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
      raw.remove_suffix(1);
    if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return false;
    if (!promptRawText(raw.substr(1, raw.size() - 2), facts, chars)) return false;
    if (auto& noted = notedStrings; noted.count < noted.regions.size()) noted.regions[noted.count++] = raw;
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text)) return false;
  chars += promptText(text, facts);
  return true;
}

// End of a JSON value starting at `start`: a string's closing quote, an
// array's or object's matching bracket, else the first delimiter. (The strict
// check refuses bodies where this reading could be wrong.)
std::size_t tokenEnd(std::string_view json, std::size_t start) {
  if (start < json.size() && (json[start] == '[' || json[start] == '{')) {
    std::size_t depth = 0;
    bool inString = false;
    for (std::size_t i = start; i < json.size(); ++i) {
      const char c = json[i];
      if (inString) {
        if (c == '\\') ++i;
        else if (c == '"') inString = false;
      } else if (c == '"') {
        inString = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if ((c == ']' || c == '}') && --depth == 0) {
        return i + 1;
      }
    }
    return json.size();
  }
  if (start < json.size() && json[start] == '"') {
    for (std::size_t i = start + 1; i < json.size(); ++i) {
      if (json[i] == '\\') ++i;
      else if (json[i] == '"') return i + 1;
    }
    return std::string_view::npos;
  }
  std::size_t i = start;
  while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' && json[i] != ' ' && json[i] != '\n' &&
         json[i] != '\r' && json[i] != '\t')
    ++i;
  return i;
}

bool knownRole(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant" || role == "tool" || role == "developer" ||
         role == "function";
}

// "content": a string, an array of parts, or null where allowed (assistant).
bool readContent(ondemand::value value, std::string_view role, RequestFacts& facts, std::uint64_t& chars) {
  ondemand::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case ondemand::json_type::string:
      return readPromptString(value, facts, chars);
    case ondemand::json_type::null:
      return role == "assistant" || role == "function" || role == "tool";
    case ondemand::json_type::array: {
      ondemand::array parts;
      if (value.get_array().get(parts)) return false;
      for (auto partValue : parts) {
        ondemand::object part;
        if (partValue.get_object().get(part)) return false;
        bool typed = false, hasText = false;
        for (auto field : part) {
          std::string_view key;
          if (field.unescaped_key().get(key)) return false;
          if ((key == "type" && typed) || (key == "text" && hasText)) {
            facts.refuse(InputViolation::DuplicateKey, "messages", "A content part repeats the key '" + std::string(key) + "'.");
            return true;  // reported as what it is, not as bad content
          }
          if (key == "type") {
            std::string_view t;
            if (field.value().get_string().get(t)) return false;
            typed = true;
          } else if (key == "text") {
            hasText = true;
            ondemand::value text;
            if (field.value().get(text) || !readPromptString(text, facts, chars)) return false;
          }
        }
        if (!typed) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

void readMessages(ondemand::value value, RequestFacts& facts) {
  ondemand::array messages;
  if (value.get_array().get(messages)) {
    facts.violate(InputViolation::InvalidMessages, "messages", "'messages' must be an array of message objects.");
    return;
  }
  for (auto item : messages) {
    ondemand::object message;
    if (item.get_object().get(message)) {
      facts.violate(InputViolation::InvalidMessages, "messages", "Each message must be an object.");
      return;
    }
    ++facts.messages;
    facts.hashingPrefix = facts.messages <= RequestFacts::kPrefixMessages;
    std::string_view role;
    bool hasRole = false, contentOk = true, hasContent = false;
    std::uint64_t chars = 0;
    std::uint8_t roleBit = 0;
    for (auto field : message) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return facts.violate(InputViolation::InvalidJson, {}, "Malformed JSON.");
      if ((key == "role" && hasRole) || (key == "content" && hasContent))
        return facts.refuse(InputViolation::DuplicateKey, "messages",
                            "A message repeats the key '" + std::string(key) + "'; send it once.");
      if (key == "role") {
        // Copy: the string view is only valid until the next string is read.
        std::string_view r;
        if (field.value().get_string().get(r) || !knownRole(r)) {
          facts.violate(InputViolation::InvalidRole, "messages",
                        "Each message needs a 'role' of system, developer, user, assistant or tool.");
          return;
        }
        role = r == "assistant" ? "assistant" : r == "tool" ? "tool" : r == "function" ? "function" : "user";
        roleBit = (r == "system" || r == "developer") ? 1 : r == "user" ? 2 : r == "assistant" ? 4 : 8;
        hasRole = true;
      } else if (key == "content") {
        hasContent = true;
        ondemand::value content;
        if (field.value().get(content) || !readContent(content, role, facts, chars)) contentOk = false;
      }
    }
    if (!hasRole) {
      facts.violate(InputViolation::InvalidRole, "messages", "Each message needs a 'role'.");
      return;
    }
    if (facts.hashingPrefix) facts.prefixHash = facts.prefixHash * 31 + roleBit + 1;
    facts.hashingPrefix = false;
    facts.rolesSeen |= roleBit;
    if (roleBit == 1) facts.systemChars += chars;
    if (roleBit == 2) facts.lastUserChars = chars;
    if (!contentOk || (!hasContent && role != "assistant")) {
      facts.violate(InputViolation::InvalidContent, "messages",
                    "A message 'content' must be a string, an array of content parts, or null for assistant messages.");
      return;
    }
  }
  if (facts.messages == 0)
    facts.violate(InputViolation::InvalidMessages, "messages", "'messages' must not be empty.");
}

// Returns whether a number was present (null or absent: the default applies).
bool readNumberInRange(ondemand::value value, double low, double high, InputViolation v, std::string_view param,
                       RequestFacts& facts, double& x) {
  ondemand::json_type type;
  if (value.type().get(type)) {  // NaN, Infinity: not JSON
    std::string message = "'";  // appended: GCC 12 at -O3 warns falsely (-Wrestrict) on operator+
    message.append(param).append("' is not a JSON value.");
    facts.violate(InputViolation::InvalidJson, param, std::move(message));
    return false;
  }
  if (type == ondemand::json_type::null) return false;  // null means the default
  if (value.get_double().get(x) || x < low || x > high) {
    char message[128];
    std::snprintf(message, sizeof message, "'%.*s' must be a number between %.1f and %.1f.",
                  static_cast<int>(param.size()), param.data(), low, high);
    facts.violate(v, param, message);
    return false;
  }
  return true;
}

}  // namespace

namespace {

// Top-level keys the gateway routes, validates, profiles or rewrites on: a body
// that repeats one is refused, since the gateway and the model server could
// each read a different copy (JSON leaves the choice to the parser). One
// lookup per key names it for both the repeat check and the reading.
enum class ReadKey : std::uint8_t {
  Model, Stream, StreamOptions, Messages, Prompt, MaxTokens, MaxCompletionTokens,
  Temperature, TopP, N, Stop, Tools, ResponseFormat, Other,
};
constexpr std::array<std::string_view, static_cast<std::size_t>(ReadKey::Other)> kReadKeys = {
    "model", "stream", "stream_options", "messages", "prompt", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "n", "stop", "tools", "response_format"};

ReadKey readKeyOf(std::string_view key) {
  for (std::size_t i = 0; i < kReadKeys.size(); ++i)
    if (kReadKeys[i] == key) return static_cast<ReadKey>(i);
  return ReadKey::Other;
}

void readModel(ondemand::value value, std::string_view body, RequestFacts& facts) {
  std::string_view raw = value.raw_json_token();
  std::string_view model;
  if (value.get_string().get(model) || model.empty()) {
    facts.violate(InputViolation::InvalidModel, "model", "'model' must be a non-empty string.");
    return;
  }
  const auto offset = static_cast<std::size_t>(raw.data() - body.data());
  const auto end = tokenEnd(body, offset);
  if (end == std::string_view::npos) return;  // unterminated: the strict check refuses the body
  facts.hasModel = true;
  facts.model.assign(model);
  facts.modelTokenOffset = offset;
  facts.modelTokenLength = end - offset;
}

void readN(ondemand::value value, RequestFacts& facts) {
  std::int64_t n = 0;
  ondemand::json_type type;
  if (!value.type().get(type) && type == ondemand::json_type::null) return;
  if (value.get_int64().get(n) || n < 1) facts.violate(InputViolation::InvalidN, "n", "'n' must be an integer >= 1.");
  else facts.n = static_cast<std::uint32_t>(std::min<std::int64_t>(n, 1 << 20));
}

void readStop(ondemand::value value, RequestFacts& facts) {
  ondemand::json_type type;
  if (value.type().get(type)) return;  // not JSON: the strict check refuses the body
  if (type == ondemand::json_type::null || type == ondemand::json_type::string) return;
  bool ok = type == ondemand::json_type::array;
  std::size_t count = 0;
  if (ok) {
    ondemand::array stops;
    if (value.get_array().get(stops)) ok = false;
    else
      for (auto s : stops) {
        std::string_view text;
        if (s.get_string().get(text)) ok = false;
        ++count;
      }
  }
  if (!ok || count > 4) facts.violate(InputViolation::InvalidStop, "stop", "'stop' must be a string or up to 4 strings.");
}

void readTools(ondemand::value value, RequestFacts& facts) {
  ondemand::array tools;
  if (value.get_array().get(tools)) {
    facts.violate(InputViolation::InvalidTools, "tools", "'tools' must be an array.");
    return;
  }
  for (auto tool : tools) {
    (void)tool;
    ++facts.tools;
  }
}

void readResponseFormat(ondemand::value value, RequestFacts& facts) {
  ondemand::object format;
  std::string_view type;
  bool known = false;
  if (!value.get_object().get(format)) {
    for (auto f : format) {
      std::string_view k;
      if (f.unescaped_key().get(k)) break;
      if (k == "type" && !f.value().get_string().get(type)) {
        known = type == "text" || type == "json_object" || type == "json_schema";
        facts.responseFormat = type == "text" ? 1 : type == "json_object" ? 2 : type == "json_schema" ? 3 : 0;
      }
    }
  }
  if (!known)
    facts.violate(InputViolation::InvalidResponseFormat, "response_format",
                  "'response_format.type' must be text, json_object or json_schema.");
}

void readTokenLimit(ondemand::value value, std::size_t which, std::string_view body, RequestFacts& facts) {
  const std::string_view name = kTokenLimitKeyNames[which];
  auto& limit = facts.tokenLimits[which];
  // Where the value stands, whatever it is: rewriting replaces all of it.
  limit.tokenOffset = static_cast<std::size_t>(value.raw_json_token().data() - body.data());
  limit.tokenLength = tokenEnd(body, limit.tokenOffset) - limit.tokenOffset;
  ondemand::json_type type;
  if (!value.type().get(type) && type == ondemand::json_type::null) {  // the default
    limit.null = true;
    return;
  }
  std::int64_t n = 0;
  if (value.get_int64().get(n) || n <= 0) {
    limit.unreadable = true;
    // Appended, not operator+: GCC 12 at -O3 warns falsely (-Wrestrict) on the chain.
    std::string message = "'";
    message.append(name).append("' must be a positive integer.");
    facts.violate(InputViolation::InvalidMaxTokens, name, std::move(message));
    return;
  }
  limit.present = true;
  limit.value = static_cast<std::uint64_t>(n);
  facts.hasMaxTokens = true;
  facts.maxTokens = std::max(facts.maxTokens, limit.value);
}

// One top-level field the gateway reads, into `facts`.
void readField(ReadKey which, ondemand::value value, std::string_view body, ApiKind api, RequestFacts& facts,
               bool& hasMessages) {
  switch (which) {
    case ReadKey::Model: readModel(value, body, facts); break;
    case ReadKey::Stream: {
      bool stream = false;
      if (value.get_bool().get(stream)) facts.violate(InputViolation::InvalidStream, "stream", "'stream' must be a boolean.");
      facts.stream = stream;
      break;
    }
    case ReadKey::StreamOptions: facts.hasStreamOptions = true; break;
    case ReadKey::Messages:
      if (api != ApiKind::Chat) break;
      hasMessages = true;
      readMessages(value, facts);
      facts.hashingPrefix = false;  // also when the messages ended early (refused)
      break;
    case ReadKey::Prompt: {
      if (api != ApiKind::Completion) break;
      std::uint64_t chars = 0;
      if (readPromptString(value, facts, chars)) facts.lastUserChars = chars;
      break;
    }
    case ReadKey::MaxTokens: readTokenLimit(value, kMaxTokensKey, body, facts); break;
    case ReadKey::MaxCompletionTokens: readTokenLimit(value, kMaxCompletionTokensKey, body, facts); break;
    case ReadKey::Temperature:
      facts.hasTemperature =
          readNumberInRange(value, 0, 2, InputViolation::InvalidTemperature, "temperature", facts, facts.temperature);
      break;
    case ReadKey::TopP:
      facts.hasTopP = readNumberInRange(value, 0, 1, InputViolation::InvalidTopP, "top_p", facts, facts.topP);
      break;
    case ReadKey::N: readN(value, facts); break;
    case ReadKey::Stop: readStop(value, facts); break;
    case ReadKey::Tools: readTools(value, facts); break;
    case ReadKey::ResponseFormat: readResponseFormat(value, facts); break;
    case ReadKey::Other: break;
  }
}

}  // namespace

void extractRequestFacts(ondemand::parser& parser, std::string& body, RequestFacts& facts, ApiKind api) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  extractRequestFacts(parser, simdjson::padded_string_view(body.data(), body.size(), body.capacity()), facts, api);
}

void extractRequestFacts(ondemand::parser& parser, simdjson::padded_string_view input, RequestFacts& facts,
                         ApiKind api) {
  facts.reset();
  notedStrings.count = 0;
  const std::string_view body(input.data(), input.size());
  ondemand::document doc;
  if (auto error = parser.iterate(input).get(doc)) {
    if (error == simdjson::UTF8_ERROR) facts.violate(InputViolation::InvalidUtf8, {}, "The request body is not valid UTF-8.");
    else facts.violate(InputViolation::InvalidJson, {}, "We could not parse the JSON body of your request.");
    return;
  }
  ondemand::object object;
  if (auto error = doc.get_object().get(object)) {
    if (error == simdjson::UTF8_ERROR) facts.violate(InputViolation::InvalidUtf8, {}, "The request body is not valid UTF-8.");
    else facts.violate(InputViolation::InvalidJson, {}, "The request body must be a JSON object.");
    return;
  }
  bool hasMessages = false;
  std::uint32_t keysSeen = 0;
  for (auto field : object) {
    std::string_view key;
    ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) break;  // the strict check says what
    ++facts.members;
    const ReadKey which = readKeyOf(key);
    if (which != ReadKey::Other) {
      const std::uint32_t bit = 1u << static_cast<unsigned>(which);
      if (keysSeen & bit) {
        const auto name = kReadKeys[static_cast<std::size_t>(which)];
        facts.refuse(InputViolation::DuplicateKey, name,
                     "The request repeats the key '" + std::string(name) + "'; send each parameter once.");
        continue;
      }
      keysSeen |= bit;
    }
    readField(which, value, body, api, facts, hasMessages);
  }
  // On-Demand checked only what was read: now every byte, and the nesting.
  const auto strict = checkStrictJson(
      doc, body, std::span<const std::string_view>(notedStrings.regions.data(), notedStrings.count));
  if (strict != StrictJson::Valid) {
    facts.refused = false;  // whatever else is wrong, this is what to say
    facts.refuse(InputViolation::InvalidJson, {},
                 strict == StrictJson::TooDeep ? "The JSON body is nested too deeply."
                                               : "We could not parse the JSON body of your request.");
    return;
  }
  if (facts.refused) return;  // a repeated key: not one reading
  if (!facts.hasModel && facts.violation == InputViolation::None)
    facts.violate(InputViolation::MissingModel, "model", "'model' is required.");
  if (api == ApiKind::Chat && !hasMessages)
    facts.violate(InputViolation::InvalidMessages, "messages", "'messages' is required.");
  facts.objectStart = body.find('{');
  facts.bodyBytes = body.size();
  facts.isJson = true;
}

}  // namespace infergate
