#include "mock_responses.hpp"

#include <simdjson.h>

#include <array>
#include <cstring>
#include <ctime>

namespace mock {

namespace {

constexpr std::array<std::string_view, 16> kWords = {
    "The ", "mock ", "model ", "answers ", "every ", "request ", "with ", "steady ",
    "tokens ", "so ", "the ", "gateway ", "can ", "be ", "measured ", "exactly "};

void appendEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (u < 0x20) {
      out.append("\\u00").push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
}

bool deterministic = false;

std::string created() {
  return std::to_string(deterministic ? 1700000000LL : static_cast<long long>(std::time(nullptr)));
}

// `data: {"id":…,"object":…,"created":…,"model":"…` shared by every stream chunk.
std::string chunkPreamble(const RequestInfo& info, std::uint64_t id) {
  std::string out = "data: ";
  const bool chat = info.api == Api::Chat;
  out.append(chat ? R"({"id":"chatcmpl-mock-)" : R"({"id":"cmpl-mock-)").append(std::to_string(id));
  out.append(chat ? R"(","object":"chat.completion.chunk","created":)" : R"(","object":"text_completion","created":)");
  out.append(created()).append(R"(,"model":")");
  appendEscaped(out, info.model);
  return out;
}

}  // namespace

void setDeterministic(bool on) { deterministic = on; }

std::uint64_t bodyHash(std::string_view body) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : body) h = (h ^ c) * 1099511628211ull;
  return h % 1000000007ull;
}

std::string_view tokenText(unsigned index) { return kWords[index % kWords.size()]; }

std::string_view outputToken(Output output, unsigned index, const std::vector<std::string>& given) {
  static constexpr std::array<std::string_view, 10> kRefusal = {"I'm ", "sorry, ", "but ", "I ", "can't ",
                                                                "help ", "with ", "that ", "request.", ""};
  static constexpr std::array<std::string_view, 3> kLoop = {"I ", "think ", "so. "};
  static constexpr std::array<std::string_view, 3> kBadJson = {"{\"answer\": ", "\"Paris\", ", "\"population\": "};
  static constexpr std::array<std::string_view, 4> kGarbage = {"The ", "answer ", "looks ", "fine."};
  auto fixed = [index](const auto& pieces) { return index < pieces.size() ? pieces[index] : std::string_view{}; };
  switch (output) {
    case Output::Normal:
    case Output::Truncate: return tokenText(index);
    case Output::Refusal: return fixed(kRefusal);
    case Output::Loop: return kLoop[index % kLoop.size()];
    case Output::BadJson: return fixed(kBadJson);
    case Output::Judge4: return index == 0 ? std::string_view("4") : std::string_view{};
    case Output::Garbage: return fixed(kGarbage);
    case Output::Given: return index < given.size() ? std::string_view(given[index]) : std::string_view{};
  }
  return {};
}

std::string_view finishReasonFor(Output output) { return output == Output::Truncate ? "length" : "stop"; }

RequestInfo inspectRequest(std::string& body, Api api) {
  RequestInfo info;
  info.api = api;
  info.promptTokens = static_cast<unsigned>(body.size() / 4 + 1);
  thread_local simdjson::ondemand::parser parser;
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(doc)) return info;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return info;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return info;
    if (key == "model") {
      std::string_view m;
      if (!field.value().get_string().get(m)) info.model.assign(m);
    } else if (key == "stream") {
      bool s = false;
      if (!field.value().get_bool().get(s)) info.stream = s;
    } else if (key == "encoding_format") {
      std::string_view f;
      if (!field.value().get_string().get(f)) info.base64Embeddings = f == "base64";
    } else if (key == "stream_options") {
      simdjson::ondemand::object opts;
      if (field.value().get_object().get(opts)) continue;
      for (auto o : opts) {
        std::string_view k;
        if (o.unescaped_key().get(k)) break;
        bool v = false;
        if (k == "include_usage" && !o.value().get_bool().get(v)) info.includeUsage = v;
      }
    }
  }
  return info;
}

std::string completionBody(const RequestInfo& info, unsigned tokens, std::uint64_t id, Output output,
                           const std::vector<std::string>& given) {
  std::string text;
  for (unsigned i = 0; i < tokens; ++i) appendEscaped(text, outputToken(output, i, given));
  std::string out;
  out.reserve(320 + text.size());
  const bool chat = info.api == Api::Chat;
  out.append(chat ? R"({"id":"chatcmpl-mock-)" : R"({"id":"cmpl-mock-)").append(std::to_string(id));
  out.append(chat ? R"(","object":"chat.completion","created":)" : R"(","object":"text_completion","created":)");
  out.append(created()).append(R"(,"model":")");
  appendEscaped(out, info.model);
  if (chat) out.append(R"(","choices":[{"index":0,"message":{"role":"assistant","content":")");
  else out.append(R"(","choices":[{"index":0,"text":")");
  out.append(text);
  out.append(chat ? R"("},"finish_reason":")" : R"(","finish_reason":")");
  out.append(finishReasonFor(output)).append(R"("}],"usage":{"prompt_tokens":)");
  out.append(std::to_string(info.promptTokens)).append(R"(,"completion_tokens":)").append(std::to_string(tokens));
  out.append(R"(,"total_tokens":)").append(std::to_string(info.promptTokens + tokens)).append("}}");
  return out;
}

std::string streamChunk(const RequestInfo& info, std::uint64_t id, std::string_view content, bool first) {
  const bool chat = info.api == Api::Chat;
  std::string out = chunkPreamble(info, id);
  if (chat) {
    out.append(R"(","choices":[{"index":0,"delta":{)");
    if (first) out.append(R"("role":"assistant",)");
    out.append(R"("content":")");
  } else {
    out.append(R"(","choices":[{"index":0,"text":")");
  }
  appendEscaped(out, content);
  out.append(chat ? R"("},"finish_reason":null}]})" : R"(","finish_reason":null}]})");
  out.append("\n\n");
  return out;
}

std::string streamFinalChunk(const RequestInfo& info, std::uint64_t id, std::string_view finishReason) {
  const bool chat = info.api == Api::Chat;
  std::string out = chunkPreamble(info, id);
  out.append(chat ? R"(","choices":[{"index":0,"delta":{},"finish_reason":")"
                  : R"(","choices":[{"index":0,"text":"","finish_reason":")");
  out.append(finishReason).append("\"}]}\n\n");
  return out;
}

std::string streamUsageChunk(const RequestInfo& info, std::uint64_t id, unsigned tokens) {
  std::string out = chunkPreamble(info, id);
  out.append(R"(","choices":[],"usage":{"prompt_tokens":)").append(std::to_string(info.promptTokens));
  out.append(R"(,"completion_tokens":)").append(std::to_string(tokens));
  out.append(R"(,"total_tokens":)").append(std::to_string(info.promptTokens + tokens)).append("}}\n\n");
  return out;
}

std::string embeddingsBody(const RequestInfo& info) {
  // Eight fixed components: 0.125, 0.25, ... 1.0 (exact in float32).
  std::string out = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":)";
  if (info.base64Embeddings) {
    // Little-endian float32 values, base64-encoded, as OpenAI returns them.
    std::string raw;
    for (int i = 0; i < 8; ++i) {
      float v = 0.125f * static_cast<float>(i + 1);
      char bytes[4];
      std::memcpy(bytes, &v, 4);
      raw.append(bytes, 4);
    }
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.push_back('"');
    for (std::size_t i = 0; i < raw.size(); i += 3) {
      unsigned n = static_cast<unsigned char>(raw[i]) << 16;
      if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
      if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
      out.push_back(kAlphabet[(n >> 18) & 63]);
      out.push_back(kAlphabet[(n >> 12) & 63]);
      out.push_back(i + 1 < raw.size() ? kAlphabet[(n >> 6) & 63] : '=');
      out.push_back(i + 2 < raw.size() ? kAlphabet[n & 63] : '=');
    }
    out.push_back('"');
  } else {
    out.push_back('[');
    for (int i = 0; i < 8; ++i) out.append(i ? "," : "").append(std::to_string(0.125 * (i + 1)));
    out.push_back(']');
  }
  out.append(R"(}],"model":")");
  appendEscaped(out, info.model);
  out.append(R"(","usage":{"prompt_tokens":)").append(std::to_string(info.promptTokens));
  out.append(R"(,"total_tokens":)").append(std::to_string(info.promptTokens)).append("}}");
  return out;
}

std::string modelsBody() {
  return R"({"object":"list","data":[{"id":"mock-model","object":"model","created":0,"owned_by":"infergate-mock"},)"
         R"({"id":"mock-small","object":"model","created":0,"owned_by":"infergate-mock"}]})";
}

std::string errorBody(unsigned status, std::string_view message) {
  std::string out = R"({"error":{"message":")";
  appendEscaped(out, message);
  out.append(R"(","type":"server_error","param":null,"code":")").append(std::to_string(status)).append("\"}}");
  return out;
}

}  // namespace mock
