#include "filters/core/log_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdarg>
#include <cstdio>

namespace infergate::log {

namespace {
std::atomic<Level> threshold{Level::Info};

// A bare logfmt value: no space, quote, equals sign, backslash or control character.
bool bare(std::string_view value) {
  if (value.empty()) return false;
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7f;
  });
}
}  // namespace

std::string_view levelName(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

void setThreshold(Level level) { threshold.store(level, std::memory_order_relaxed); }

bool enabled(Level level) { return level >= threshold.load(std::memory_order_relaxed); }

Fields Fields::request(std::string_view requestId) {
  Fields f;
  f.add("request_id", requestId.empty() ? std::string_view("-") : requestId);
  return f;
}

Fields& Fields::add(std::string_view key, std::string_view value) {
  if (!text_.empty()) text_.push_back(' ');
  text_.append(key).push_back('=');
  if (bare(value)) text_.append(value);
  else appendQuoted(text_, value);
  return *this;
}

Fields& Fields::add(std::string_view key, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  return add(key, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void appendQuoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (u < 0x20 || u == 0x7f) {
      out.append("\\x").push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void write(Level level, const Fields& fields, std::string_view message) {
  if (!enabled(level)) return;
  std::string out;
  out.reserve(64 + fields.text().size() + message.size());
  out.append("infergate: level=").append(levelName(level));
  if (!fields.text().empty()) out.append(" ").append(fields.text());
  out.append(" msg=");
  appendQuoted(out, message);
  out.push_back('\n');
  // One write per line: lines from several threads do not interleave.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, out.data(), out.size());
}

void writef(Level level, const Fields& fields, const char* format, ...) {
  if (!enabled(level)) return;
  char buffer[1024];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  const std::size_t length = n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buffer - 1);
  write(level, fields, std::string_view(buffer, length));
}

}  // namespace infergate::log
