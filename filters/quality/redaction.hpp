#pragma once
// Removes secrets and personal data from text before it leaves the gateway in
// a sample (sink file, /admin/samples, the judge): API keys and bearer tokens,
// e-mail addresses, payment card numbers (Luhn-checked) and configured
// patterns. The built-in rules are hand-written scanners (linear, no regex
// backtracking); configured patterns are RE2 regexes compiled at load, which
// match in time linear in the text whatever the pattern (a backtracking
// engine took 33 s on 1 MB for `(\w+\s?)+@corp`).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace infergate::quality {

class Redactor {
 public:
  // Throws std::invalid_argument for an invalid pattern (the config loader checks first).
  explicit Redactor(const std::vector<std::string>& patterns = {});
  ~Redactor();
  Redactor(Redactor&&) noexcept;
  std::string redact(std::string_view text) const;

 private:
  std::vector<std::unique_ptr<re2::RE2>> patterns_;
};

// True when the built-in rules would redact something in `text` (an API key,
// bearer token, JWT or card number): such text is kept out of logs whole.
bool hasSecretShape(std::string_view text);

// Empty when `pattern` compiles, else why not (for the config loader).
std::string patternError(const std::string& pattern);

// Luhn checksum over the digits of `digits` (other characters ignored).
bool luhnValid(std::string_view digits);

}  // namespace infergate::quality
