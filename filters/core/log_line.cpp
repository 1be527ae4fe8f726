#include "filters/core/log_line.hpp"

#include <cstdarg>
#include <cstdio>

namespace infergate::log {

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

void line(std::string_view level, std::string_view fields, std::string_view message) {
  std::string out;
  out.reserve(64 + fields.size() + message.size());
  out.append("infergate: level=").append(level);
  if (!fields.empty()) out.append(" ").append(fields);
  out.append(" msg=");
  appendQuoted(out, message);
  out.push_back('\n');
  // One write per line: lines from several workers do not interleave.
  std::fwrite(out.data(), 1, out.size(), stderr);
}

void linef(std::string_view level, std::string_view fields, const char* format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  const std::size_t length = n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buffer - 1);
  line(level, fields, std::string_view(buffer, length));
}

}  // namespace infergate::log
