// Refusal detection: a configured phrase near the start of the answer. Matching
// folds ASCII case and the typographic apostrophe, so "I’m sorry" matches
// "i'm sorry"; other scripts (the Chinese defaults) match as written.
#include <string>

#include "filters/quality/scorers.hpp"

namespace infergate::quality {

std::vector<std::string> ScorerSettings::defaultRefusalPhrases() {
  return {
      // English
      "i'm sorry, but i can't", "i'm sorry, but i cannot", "i am sorry, but i cannot", "i'm sorry, i can't",
      "sorry, but i can't", "sorry, i can't", "sorry, i cannot", "i can't help with", "i cannot help with",
      "i can't assist with", "i cannot assist with", "i can't provide", "i cannot provide", "i can't comply",
      "i cannot comply", "i'm unable to", "i am unable to", "i'm not able to", "i am not able to",
      "i won't be able to", "i must decline", "i apologize, but i", "as an ai language model", "as an ai, i cannot",
      // Chinese
      "抱歉，我无法", "抱歉，我不能", "对不起，我无法", "对不起，我不能", "很抱歉，我无法", "很抱歉，我不能",
      "我无法提供", "我不能提供", "我无法帮助", "我不能帮助", "我无法协助", "我不能协助", "我无法回答",
      "我不能回答", "作为一个人工智能", "作为一个ai", "作为人工智能语言模型"};
}

// Lower-cases ASCII and maps U+2019 (’) to an apostrophe.
std::string foldForMatch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) == 0x99) {
      out.push_back('\'');
      i += 2;
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool isRefusal(std::string_view text, const std::vector<std::string>& phrases, std::size_t windowBytes) {
  std::size_t start = 0;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\n' || text[start] == '\r' ||
                                 text[start] == '\t' || text[start] == '"' || text[start] == '*'))
    ++start;
  // The window may cut a phrase's last character: take the phrase length extra.
  const auto window = foldForMatch(text.substr(start, windowBytes + 64));
  for (const auto& phrase : phrases) {
    const auto at = window.find(phrase);
    if (at != std::string::npos && at < windowBytes) return true;
  }
  return false;
}

}  // namespace infergate::quality
