#pragma once
// Removes secrets and personal data from text before it leaves the gateway in
// a sample (sink file, /admin/samples, the judge): API keys and bearer tokens,
// e-mail addresses, payment card numbers (Luhn-checked) and configured
// patterns. The built-in rules are hand-written scanners (linear, no regex
// backtracking); configured patterns are ECMAScript regexes compiled at load.
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace infergate::quality {

class Redactor {
 public:
  // Throws std::regex_error for an invalid pattern (the config loader checks first).
  explicit Redactor(const std::vector<std::string>& patterns = {});
  std::string redact(std::string_view text) const;

 private:
  std::vector<std::regex> patterns_;
};

// Luhn checksum over the digits of `digits` (other characters ignored).
bool luhnValid(std::string_view digits);

}  // namespace infergate::quality
