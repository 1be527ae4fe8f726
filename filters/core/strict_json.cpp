#include "filters/core/strict_json.hpp"

namespace infergate {

namespace ondemand = simdjson::ondemand;

namespace {

// Prompt strings the facts pass unescaped are the long ones; shorter strings
// with escapes are unescaped again, which costs less than looking them up.
constexpr std::size_t kCheckedStringMinBytes = 256;

bool isJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// `-?[1-9][0-9]*` as a raw token (trailing whitespace allowed).
bool isBigInteger(std::string_view raw) {
  while (!raw.empty() && isJsonSpace(raw.back())) raw.remove_suffix(1);
  if (raw.starts_with('-')) raw.remove_prefix(1);
  if (raw.empty() || raw.front() == '0') return false;
  for (char c : raw)
    if (c < '0' || c > '9') return false;
  return true;
}

// On-Demand stops a member or element loop without an error when a value is
// followed by neither a comma nor the closing bracket (`{"a":"b":]}` walks as
// `{"a":"b"}`). So the walker checks every separator itself, from where each
// value ends: each function returns the position of the token after its value
// (stage 1 leaves only JSON whitespace between tokens), or null when the value
// is not JSON.
class StrictWalker {
 public:
  StrictWalker(std::span<const std::string_view> checked, const char* end) : checked_(checked), end_(end) {}
  bool tooDeep() const { return tooDeep_; }

  const char* value(ondemand::value value, unsigned depth) {
    ondemand::json_type type;
    if (value.type().get(type)) return nullptr;  // NaN, Infinity, garbage
    const std::string_view raw = value.raw_json_token();
    // A scalar's token runs to the next token, its trailing whitespace included.
    const char* after = raw.data() + raw.size();
    switch (type) {
      case ondemand::json_type::object: return object(value, raw.data(), depth);
      case ondemand::json_type::array: return array(value, raw.data(), depth);
      case ondemand::json_type::string: return string(value, raw) ? after : nullptr;
      case ondemand::json_type::number: {
        ondemand::number n;  // leading zeros, bare signs, overflow to infinity: errors
        if (!value.get_number().get(n)) return after;
        // An integer beyond 64 bits is JSON (a server's own range check says
        // no, as the gateway's does for the parameters it reads).
        return isBigInteger(raw) ? after : nullptr;
      }
      case ondemand::json_type::boolean: {
        bool b;
        return value.get_bool().get(b) ? nullptr : after;
      }
      case ondemand::json_type::null: {
        bool isNull = false;  // the type looks at the first letter only: `nul` is not null
        return value.is_null().get(isNull) || !isNull ? nullptr : after;
      }
    }
    return nullptr;
  }

  // The members of an object whose '{' is at `open`.
  const char* members(ondemand::object object, const char* open, unsigned depth) {
    const char* next = skipSpace(open + 1);
    bool any = false;
    for (auto field : object) {
      ondemand::raw_json_string rawKey;
      ondemand::value child;
      if (field.key().get(rawKey) || !keyValid(field, rawKey) || field.value().get(child)) return nullptr;
      if (any && *next != ',') return nullptr;  // the previous member ended without a comma
      any = true;
      next = value(child, depth + 1);
      if (next == nullptr) return nullptr;
    }
    return closed(next, '}');
  }

 private:
  // A container at `depth` past the limit: noted, so that the answer says why.
  bool tooDeepAt(unsigned depth) {
    if (depth > kMaxJsonDepth) tooDeep_ = true;
    return tooDeep_;
  }

  const char* object(ondemand::value value, const char* open, unsigned depth) {
    if (tooDeepAt(depth)) return nullptr;
    ondemand::object object;
    if (value.get_object().get(object)) return nullptr;
    return members(object, open, depth);
  }

  const char* array(ondemand::value value, const char* open, unsigned depth) {
    if (tooDeepAt(depth)) return nullptr;
    ondemand::array array;
    if (value.get_array().get(array)) return nullptr;
    const char* next = skipSpace(open + 1);
    bool any = false;
    for (auto element : array) {
      ondemand::value child;
      if (element.get(child)) return nullptr;
      if (any && *next != ',') return nullptr;
      any = true;
      next = this->value(child, depth + 1);
      if (next == nullptr) return nullptr;
    }
    return closed(next, ']');
  }

  // The last value (or the opening bracket's inside) must be followed by the
  // closing bracket; the token after it is returned.
  const char* closed(const char* next, char bracket) const {
    if (next >= end_ || *next != bracket) return nullptr;
    return skipSpace(next + 1);
  }

  const char* skipSpace(const char* p) const {
    while (p < end_ && isJsonSpace(*p)) ++p;
    return p;
  }

  // A key without a backslash has nothing left to check (stage 1 checked its
  // bytes); one with escapes is unescaped, which checks them.
  static bool keyValid(simdjson::simdjson_result<ondemand::field>& field, ondemand::raw_json_string raw) {
    for (const char* p = raw.raw(); *p != '"'; ++p)
      if (*p == '\\') {
        std::string_view key;
        return !field.unescaped_key().get(key);
      }
    return true;
  }

  bool string(ondemand::value value, std::string_view raw) {
    // A long prompt string the facts pass unescaped is not read again (not
    // even scanned: a 200 KB prompt would cost microseconds).
    if (raw.size() >= kCheckedStringMinBytes)
      for (const auto& seen : checked_)
        if (seen.data() == raw.data()) return true;
    // Stage 1 checked the UTF-8 and the control characters of every string:
    // only escapes are left, and a string without a backslash has none.
    if (raw.find('\\') == std::string_view::npos) return true;
    std::string_view text;
    return !value.get_string().get(text);
  }

  std::span<const std::string_view> checked_;
  const char* end_;
  bool tooDeep_ = false;
};

}  // namespace

StrictJson checkStrictJson(ondemand::document& doc, std::string_view json,
                           std::span<const std::string_view> checkedStrings) {
  // A document the facts pass found broken beyond recovery is given up by
  // simdjson (and cannot be rewound): it is not JSON.
  if (!doc.is_alive()) return StrictJson::Invalid;
  doc.rewind();
  const char* end = json.data() + json.size();
  StrictWalker walker(checkedStrings, end);
  ondemand::object root;
  if (doc.get_object().get(root)) return StrictJson::Invalid;
  const char* open = json.data();
  while (open < end && *open != '{') ++open;  // after leading whitespace (stage 1 allows nothing else)
  const char* next = walker.members(root, open, 1);
  if (next == nullptr) return walker.tooDeep() ? StrictJson::TooDeep : StrictJson::Invalid;
  return next == end ? StrictJson::Valid : StrictJson::Invalid;  // nothing may follow the root value
}

}  // namespace infergate
