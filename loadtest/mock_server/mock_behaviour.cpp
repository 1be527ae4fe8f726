#include "mock_behaviour.hpp"

#include <charconv>
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
