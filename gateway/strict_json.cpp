#include "gateway/strict_json.hpp"

namespace infergate {

namespace ondemand = simdjson::ondemand;

namespace {

// Prompt strings the facts pass unescaped are the long ones; shorter strings
// with escapes are unescaped again, which costs less than looking them up.
constexpr std::size_t kCheckedStringMinBytes = 256;

// `-?[1-9][0-9]*` as a raw token (trailing whitespace allowed).
bool isBigInteger(std::string_view raw) {
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
    raw.remove_suffix(1);
  if (raw.starts_with('-')) raw.remove_prefix(1);
  if (raw.empty() || raw.front() == '0') return false;
  for (char c : raw)
    if (c < '0' || c > '9') return false;
  return true;
}

class StrictWalker {
 public:
  explicit StrictWalker(std::span<const std::string_view> checked) : checked_(checked) {}

  StrictJson value(ondemand::value value, unsigned depth) {
    ondemand::json_type type;
    if (value.type().get(type)) return StrictJson::Invalid;  // NaN, Infinity, garbage
    switch (type) {
      case ondemand::json_type::object: return object(value, depth);
      case ondemand::json_type::array: return array(value, depth);
      case ondemand::json_type::string: return string(value);
      case ondemand::json_type::number: {
        ondemand::number n;  // leading zeros, bare signs, overflow to infinity: errors
        if (!value.get_number().get(n)) return StrictJson::Valid;
        // An integer beyond 64 bits is JSON (a server's own range check says
        // no, as the gateway's does for the parameters it reads).
        return isBigInteger(value.raw_json_token()) ? StrictJson::Valid : StrictJson::Invalid;
      }
      case ondemand::json_type::boolean: {
        bool b;
        return value.get_bool().get(b) ? StrictJson::Invalid : StrictJson::Valid;
      }
      case ondemand::json_type::null: {
        bool isNull = false;  // the type looks at the first letter only: `nul` is not null
        return value.is_null().get(isNull) || !isNull ? StrictJson::Invalid : StrictJson::Valid;
      }
    }
    return StrictJson::Invalid;
  }

  StrictJson members(ondemand::object object, unsigned depth) {
    for (auto field : object) {
      std::string_view key;
      ondemand::value child;
      if (field.unescaped_key().get(key) || field.value().get(child)) return StrictJson::Invalid;
      if (auto r = value(child, depth + 1); r != StrictJson::Valid) return r;
    }
    return StrictJson::Valid;
  }

 private:
  StrictJson object(ondemand::value value, unsigned depth) {
    if (depth > kMaxJsonDepth) return StrictJson::TooDeep;
    ondemand::object object;
    if (value.get_object().get(object)) return StrictJson::Invalid;
    return members(object, depth);
  }

  StrictJson array(ondemand::value value, unsigned depth) {
    if (depth > kMaxJsonDepth) return StrictJson::TooDeep;
    ondemand::array array;
    if (value.get_array().get(array)) return StrictJson::Invalid;
    for (auto element : array) {
      ondemand::value child;
      if (element.get(child)) return StrictJson::Invalid;
      if (auto r = this->value(child, depth + 1); r != StrictJson::Valid) return r;
    }
    return StrictJson::Valid;
  }

  StrictJson string(ondemand::value value) {
    // Stage 1 checked the UTF-8 and the control characters of every string:
    // only escapes are left, and a string without a backslash has none.
    const std::string_view raw = value.raw_json_token();
    if (raw.find('\\') == std::string_view::npos) return StrictJson::Valid;
    if (raw.size() >= kCheckedStringMinBytes)
      for (const auto& seen : checked_)
        if (seen.data() == raw.data()) return StrictJson::Valid;
    std::string_view text;
    return value.get_string().get(text) ? StrictJson::Invalid : StrictJson::Valid;
  }

  std::span<const std::string_view> checked_;
};

}  // namespace

StrictJson checkStrictJson(ondemand::document& doc, std::span<const std::string_view> checkedStrings) {
  doc.rewind();
  StrictWalker walker(checkedStrings);
  ondemand::object root;
  if (doc.get_object().get(root)) return StrictJson::Invalid;
  if (auto r = walker.members(root, 1); r != StrictJson::Valid) return r;
  // Nothing may follow the root value.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS ? StrictJson::Valid : StrictJson::Invalid;
}

}  // namespace infergate
