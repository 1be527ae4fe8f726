#include "filters/quality/language_id.hpp"

#include <cstdio>  // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include <array>
#include <span>
#include <string>

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

LanguageGuess identifyLanguage(std::string_view text, std::string_view hint) {
  LanguageGuess guess;
  const auto sample = utf8Prefix(text, kMaxBytes);
  CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING,
                          hint.empty() ? CLD2::UNKNOWN_LANGUAGE : CLD2::GetLanguageFromName(std::string(hint).c_str())};
  CLD2::Language top3[3];
  int percent3[3] = {};
  double scores3[3] = {};
  int textBytes = 0;
  bool reliable = false;
  int validPrefix = 0;
  // The checking entry point: an answer may hold invalid UTF-8 (the garbled
  // flag's business), which the unchecked one must never see.
  const auto language = CLD2::ExtDetectLanguageSummaryCheckUTF8(
      sample.data(), static_cast<int>(sample.size()), /*is_plain_text=*/true, hint.empty() ? nullptr : &hints, 0, top3, percent3, scores3,
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

bool asksForALanguage(std::string_view prompt) {
  // A translation, or an answer in a named language: the cue words, and a
  // language named after the preposition each language uses for it ("in
  // English", "en inglés", "auf Deutsch", "по-английски", "用英文", "英語で").
  static constexpr auto kCues = std::to_array<std::string_view>({
      "translat", "answer in", "respond in", "reply in", "write in", "翻译", "翻譯", "翻訳", "번역", "перевед",
      "перевод", "tradu", "übersetz", "vertaal", "çevir", "przetłumacz"});
  // Each list follows its preposition: "in " + English names, and so on.
  static constexpr auto kIn = std::to_array<std::string_view>(
      {"english", "spanish", "french", "german", "italian", "portuguese", "chinese", "japanese", "korean", "russian",
       "arabic", "dutch", "inglese", "spagnolo", "francese", "tedesco", "italiano", "cinese", "giapponese", "russo",
       "engels", "duits", "frans", "spaans"});
  static constexpr auto kEn = std::to_array<std::string_view>(
      {"inglés", "ingles", "español", "francés", "alemán", "italiano", "portugués", "chino", "japonés", "coreano",
       "ruso", "árabe", "anglais", "espagnol", "français", "allemand", "italien", "portugais", "chinois", "japonais",
       "coréen", "russe", "arabe"});
  static constexpr auto kEm = std::to_array<std::string_view>(
      {"inglês", "espanhol", "francês", "alemão", "italiano", "português", "chinês", "japonês", "russo"});
  static constexpr auto kAuf = std::to_array<std::string_view>(
      {"englisch", "spanisch", "französisch", "deutsch", "italienisch", "portugiesisch", "chinesisch", "japanisch",
       "koreanisch", "russisch", "arabisch"});
  static constexpr auto kPo = std::to_array<std::string_view>(
      {"англ", "испан", "франц", "немец", "итальян", "китай", "япон", "русск"});
  static constexpr auto kNa = std::to_array<std::string_view>(
      {"английском", "испанском", "французском", "немецком", "китайском", "японском", "русском"});
  static constexpr auto kYong = std::to_array<std::string_view>(
      {"英文", "英语", "英語", "中文", "日语", "日文", "韩语", "法语", "德语", "西班牙语"});
  // Languages whose postposition is part of the cue.
  static constexpr auto kBare = std::to_array<std::string_view>(
      {"英語で", "中国語で", "韓国語で", "日本語で", "フランス語で", "ドイツ語で", "スペイン語で", "영어로", "중국어로",
       "일본어로", "한국어로", "프랑스어로", "독일어로", "بالإنجليزية", "بالعربية", "بالفرنسية", "ingilizce"});
  struct Named {
    std::string_view preposition;
    std::span<const std::string_view> names;
  };
  static constexpr std::array<Named, 8> kNamed = {{{"in ", kIn}, {"en ", kEn}, {"em ", kEm}, {"auf ", kAuf},
                                                   {"по-", kPo}, {"на ", kNa}, {"用", kYong}, {"", kBare}}};
  const auto folded = foldForMatch(prompt.substr(0, 16 * 1024));
  const std::string_view text(folded);
  for (auto cue : kCues)
    if (text.find(cue) != std::string_view::npos) return true;
  for (const auto& named : kNamed)
    for (auto name : named.names)
      for (auto at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1))
        if (at >= named.preposition.size() && text.substr(at - named.preposition.size(), named.preposition.size()) ==
                                                 named.preposition)
          return true;
  return false;
}

bool sameLanguage(std::string_view a, std::string_view b) {
  // Written forms of one language that CLD2 tells apart, and languages so
  // close that a short text reads as either (Indonesian and Malay; Bosnian,
  // Croatian and Serbian; the Norwegian standards).
  const auto family = [](std::string_view code) -> std::string_view {
    code = code.substr(0, code.find('-'));
    if (code == "ms") return "id";
    if (code == "hr" || code == "sr" || code == "bs") return "sh";
    if (code == "nn" || code == "nb") return "no";
    return code;
  };
  return family(a) == family(b);
}

bool readsAs(std::string_view text, std::string_view language) {
  const auto guess = identifyLanguage(text, language);
  return guess.reliable && sameLanguage(guess.code, language);
}

}  // namespace infergate::quality
