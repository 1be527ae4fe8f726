#pragma once
// The gateway's one logger: logfmt lines on stderr,
// `infergate: level=L k=v ... msg="..."`, one write(2) per line so lines from
// several threads never interleave. Lines below the threshold (config
// log.level, default info) are dropped before anything is formatted. A line
// about a request carries its request_id (Fields::request); values are quoted
// and escaped when they need it, so the line always parses. Never log headers
// or bodies: they may carry secrets.
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate::log {

// Same order as config::LogConfig::Level (main.cpp converts one to the other).
enum class Level : std::uint8_t { Debug, Info, Warn, Error };
std::string_view levelName(Level level);

// Process-wide, set once at start; lines below it are dropped.
void setThreshold(Level level);
bool enabled(Level level);

// The key=value pairs of one line, in order.
class Fields {
 public:
  Fields() = default;
  // A line about a request: its id comes first.
  static Fields request(std::string_view requestId);
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, std::uint64_t value);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// `text` as a logfmt quoted value, quotes included.
void appendQuoted(std::string& out, std::string_view text);

void write(Level level, const Fields& fields, std::string_view message);
// As write(), the message formatted printf-style.
[[gnu::format(printf, 3, 4)]] void writef(Level level, const Fields& fields, const char* format, ...);

}  // namespace infergate::log
