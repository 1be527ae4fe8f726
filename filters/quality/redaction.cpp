#include "filters/quality/redaction.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace infergate::quality {

namespace {

struct Span {
  std::size_t begin, end;
  std::string_view replacement;
};

constexpr std::string_view kKey = "[REDACTED_KEY]";
constexpr std::string_view kEmail = "[REDACTED_EMAIL]";
constexpr std::string_view kCard = "[REDACTED_CARD]";
constexpr std::string_view kPatternReplacement = "[REDACTED]";  // a rewrite string: no backslashes

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool tokenChar(char c) { return alnum(c) || c == '_' || c == '-'; }
bool emailLocalChar(char c) { return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool domainChar(char c) { return alnum(c) || c == '.' || c == '-'; }
bool bearerChar(char c) { return alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-'; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Well-known credential formats: a prefix and a minimum token length.
bool looksLikeKey(std::string_view token) {
  struct Rule {
    std::string_view prefix;
    std::size_t minLength;
  };
  static constexpr std::array<Rule, 22> kRules = {{
      {"sk-", 20},      {"sk_live_", 20}, {"sk_test_", 20}, {"rk_live_", 20}, {"rk_test_", 20}, {"pk_live_", 20},
      {"ghp_", 20},     {"gho_", 20},     {"ghu_", 20},     {"ghs_", 20},     {"ghr_", 20},     {"github_pat_", 20},
      {"xoxb-", 15},    {"xoxp-", 15},    {"xoxa-", 15},    {"xoxr-", 15},    {"xoxs-", 15},    {"AIza", 35},
      {"hf_", 30},      {"glpat-", 20},   {"AKIA", 20},     {"ASIA", 20},
  }};
  for (const auto& rule : kRules)
    if (token.size() >= rule.minLength && token.starts_with(rule.prefix)) return true;
  return false;
}

void findKeys(std::string_view text, std::vector<Span>& spans) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!tokenChar(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && tokenChar(text[i])) ++i;
    const auto token = text.substr(start, i - start);
    if (ieq(token, "bearer") || ieq(token, "basic")) {
      std::size_t j = i;
      while (j < text.size() && text[j] == ' ') ++j;
      const std::size_t credential = j;
      while (j < text.size() && bearerChar(text[j])) ++j;
      if (j > i && j - credential >= 8) {
        spans.push_back({credential, j, kKey});
        i = j;
      }
      continue;
    }
    if (token.starts_with("eyJ")) {
      // A JWT: three base64url segments joined by dots.
      std::size_t end = i, dots = 0;
      while (end < text.size() && (tokenChar(text[end]) || (text[end] == '.' && ++dots))) ++end;
      if (dots >= 2 && end - start >= 24) {
        spans.push_back({start, end, kKey});
        i = end;
        continue;
      }
    }
    if (looksLikeKey(token)) spans.push_back({start, i, kKey});
  }
}

void findEmails(std::string_view text, std::vector<Span>& spans) {
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    std::size_t begin = at;
    while (begin > 0 && emailLocalChar(text[begin - 1])) --begin;
    std::size_t end = at + 1;
    while (end < text.size() && domainChar(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;  // sentence punctuation
    if (begin == at || end == at + 1) continue;
    const auto domain = text.substr(at + 1, end - at - 1);
    const auto dot = domain.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) continue;
    spans.push_back({begin, end, kEmail});
  }
}

void findCards(std::string_view text, std::vector<Span>& spans) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!digit(text[i]) || (i > 0 && alnum(text[i - 1]))) {
      ++i;
      continue;
    }
    // Digits with single spaces or dashes between them.
    std::size_t j = i, digits = 0, end = i;
    while (j < text.size()) {
      if (digit(text[j])) {
        ++digits;
        end = ++j;
      } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.size() && digit(text[j + 1]) && digits > 0) {
        ++j;
      } else {
        break;
      }
    }
    if (digits >= 13 && digits <= 19 && (end == text.size() || !alnum(text[end])) &&
        luhnValid(text.substr(i, end - i)))
      spans.push_back({i, end, kCard});
    i = std::max(end, i + 1);
  }
}

}  // namespace

bool luhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  std::size_t count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!digit(*it)) continue;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
    ++count;
  }
  return count > 0 && sum % 10 == 0;
}

namespace {
re2::RE2::Options patternOptions() {
  re2::RE2::Options options;
  options.set_log_errors(false);          // the loader reports them, with the position in the file
  options.set_max_mem(8 << 20);           // per pattern: a bounded automaton whatever is configured
  return options;
}
}  // namespace

bool hasSecretShape(std::string_view text) {
  std::vector<Span> spans;
  findKeys(text, spans);
  findCards(text, spans);
  return !spans.empty();
}

std::string patternError(const std::string& pattern) {
  re2::RE2 re(pattern, patternOptions());
  return re.ok() ? std::string() : re.error();
}

Redactor::Redactor(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    auto re = std::make_unique<re2::RE2>(p, patternOptions());
    if (!re->ok()) throw std::invalid_argument("invalid redaction pattern: " + re->error());
    patterns_.push_back(std::move(re));
  }
}

Redactor::~Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;

std::string Redactor::redact(std::string_view text) const {
  std::vector<Span> spans;
  findKeys(text, spans);
  findEmails(text, spans);
  findCards(text, spans);
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (const auto& s : spans) {
    if (s.begin < at) continue;  // overlaps one already replaced
    out.append(text.substr(at, s.begin - at));
    out.append(s.replacement);
    at = s.end;
  }
  out.append(text.substr(at));
  if (patterns_.empty()) return out;

  // RE2 matches in linear time and without recursion: the whole text at once.
  for (const auto& re : patterns_) re2::RE2::GlobalReplace(&out, *re, kPatternReplacement);
  return out;
}

}  // namespace infergate::quality
