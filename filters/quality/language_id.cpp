#include "filters/quality/language_id.hpp"

#include <cld2/public/compact_lang_det.h>

#include <array>

#include "filters/quality/scorers.hpp"

namespace infergate::quality {

namespace {
// Enough text to decide (CLD2 is reliable from a few dozen words); more only
// costs time (about 35 us per 512 bytes on this host).
constexpr std::size_t kMaxBytes = 512;

// Cut at a code point boundary: CLD2 wants valid UTF-8 to the last byte.
std::string_view utf8Prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}
}  // namespace

LanguageGuess identifyLanguage(std::string_view text) {
  LanguageGuess guess;
  const auto sample = utf8Prefix(text, kMaxBytes);
  CLD2::Language top3[3];
  int percent3[3] = {};
  double scores3[3] = {};
  int textBytes = 0;
  bool reliable = false;
  int validPrefix = 0;
  // The checking entry point: an answer may hold invalid UTF-8 (the garbled
  // flag's business), which the unchecked one must never see.
  const auto language = CLD2::ExtDetectLanguageSummaryCheckUTF8(
      sample.data(), static_cast<int>(sample.size()), /*is_plain_text=*/true, nullptr, 0, top3, percent3, scores3,
      nullptr, &textBytes, &reliable, &validPrefix);
  if (language == CLD2::UNKNOWN_LANGUAGE || language == CLD2::TG_UNKNOWN_LANGUAGE) return guess;
  guess.code = CLD2::LanguageCode(language);
  guess.reliable = reliable;
  guess.percent = percent3[0];
  return guess;
}

std::string_view lastUserMessage(std::string_view prompt) {
  const auto at = prompt.rfind("\nuser: ");
  if (at != std::string_view::npos) return prompt.substr(at + 7);
  if (prompt.starts_with("user: ")) return prompt.substr(6);
  return prompt;
}

PromptLanguage promptLanguage(std::string_view prompt) {
  PromptLanguage out;
  auto asked = identifyLanguage(lastUserMessage(prompt));
  if (asked.reliable) out.code = std::move(asked.code);
  out.asksForLanguage = asksForALanguage(prompt);
  return out;
}

bool asksForALanguage(std::string_view prompt) {
  static constexpr std::array<std::string_view, 24> kCues = {
      "translat", "in english", "in spanish", "in french", "in german", "in chinese", "in japanese", "in korean",
      "answer in", "respond in", "reply in", "write in", "翻译", "翻譯", "用英文", "用英语", "用中文", "翻訳",
      "で答え", "번역", "перевед", "по-англ", "tradu", "übersetz"};
  const auto folded = foldForMatch(prompt.substr(0, 16 * 1024));
  for (auto cue : kCues)
    if (folded.find(cue) != std::string::npos) return true;
  return false;
}

}  // namespace infergate::quality
