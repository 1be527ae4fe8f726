#include "mock_behaviour.hpp"

#include <charconv>
#include <string>
#include <string_view>

namespace mock {

namespace {
template <class T>
void readNumber(const boost::beast::http::fields& h, std::string_view name, T& out) {
  auto it = h.find(name);
  if (it == h.end()) return;
  auto v = it->value();
  T value{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec == std::errc{}) out = value;
}
// Standard base64 (with or without padding); stops at the first other byte.
std::string decodeBase64(std::string_view in) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else break;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// Pieces of at most kCodePoints code points: a stream event never splits a character.
std::vector<std::string> piecesOf(std::string_view text) {
  constexpr int kCodePoints = 6;
  std::vector<std::string> out;
  std::size_t start = 0, i = 0;
  int count = 0;
  while (i < text.size()) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    if (++count == kCodePoints) {
      out.emplace_back(text.substr(start, i - start));
      start = i;
      count = 0;
    }
  }
  if (start < text.size()) out.emplace_back(text.substr(start));
  return out;
}

}  // namespace

bool parseOutput(std::string_view name, Output& out) {
  if (name == "normal") out = Output::Normal;
  else if (name == "refusal") out = Output::Refusal;
  else if (name == "loop") out = Output::Loop;
  else if (name == "truncate") out = Output::Truncate;
  else if (name == "badjson") out = Output::BadJson;
  else if (name == "judge4") out = Output::Judge4;
  else if (name == "garbage") out = Output::Garbage;
  else return false;
  return true;
}

Behaviour behaviourFor(const Behaviour& defaults, const boost::beast::http::fields& h) {
  Behaviour b = defaults;
  if (auto it = h.find("x-mock-output"); it != h.end()) parseOutput(it->value(), b.output);
  readNumber(h, "x-mock-latency-ms", b.latencyMs);
  readNumber(h, "x-mock-first-token-ms", b.firstTokenMs);
  readNumber(h, "x-mock-inter-token-ms", b.interTokenMs);
  readNumber(h, "x-mock-tokens", b.tokens);
  readNumber(h, "x-mock-error-rate", b.errorRate);
  readNumber(h, "x-mock-status", b.status);
  readNumber(h, "x-mock-reset-after", b.resetAfterEvents);
  if (auto it = h.find("x-mock-answer"); it != h.end()) {
    b.output = Output::Given;
    b.answerPieces = piecesOf(decodeBase64(it->value()));
    b.tokens = static_cast<unsigned>(b.answerPieces.size());
  }
  unsigned flag = 0;
  if (h.find("x-mock-hang") != h.end()) {
    readNumber(h, "x-mock-hang", flag);
    b.hang = flag != 0;
  }
  if (h.find("x-mock-headers-first") != h.end()) {
    flag = 1;
    readNumber(h, "x-mock-headers-first", flag);
    b.headersFirst = flag != 0;
  }
  return b;
}

}  // namespace mock
