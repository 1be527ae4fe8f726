#pragma once
// The gateway's log lines on stderr, logfmt: `infergate: level=L k=v ... msg="..."`.
// The message is quoted and escaped (quotes, backslashes, control characters),
// so a message that quotes something ("label must be \"good\"") still parses.
#include <string>
#include <string_view>

namespace infergate::log {

// `text` as a logfmt quoted value, quotes included.
void appendQuoted(std::string& out, std::string_view text);

// One line: `fields` are ready-made `key=value` pairs (values the gateway made:
// ids, numbers, names from config), or empty.
void line(std::string_view level, std::string_view fields, std::string_view message);

// As line(), the message formatted printf-style.
[[gnu::format(printf, 3, 4)]] void linef(std::string_view level, std::string_view fields, const char* format, ...);

}  // namespace infergate::log
