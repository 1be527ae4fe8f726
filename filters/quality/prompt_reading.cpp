#include "filters/quality/prompt_reading.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "filters/core/utf8.hpp"
#include "filters/quality/language_id.hpp"
#include "filters/quality/scorers.hpp"

namespace infergate::quality {

namespace {

// Counts above this are not "how many items" but years, sizes and the like.
constexpr std::uint32_t kMaxCount = 30;

struct NumberWord {
  std::string_view word;
  std::uint32_t value;
};

// Folded number words from two up (one is "a", "one of", "un": never a count).
// German "ein" and the like are articles and left out for the same reason, as
// are words that are mostly something else (Turkish "on", Korean 네 "yes").
constexpr auto kNumberWords = std::to_array<NumberWord>({
    {"two", 2}, {"three", 3}, {"four", 4}, {"five", 5}, {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9},
    {"ten", 10}, {"eleven", 11}, {"twelve", 12}, {"fifteen", 15}, {"twenty", 20}, {"thirty", 30},
    {"dos", 2}, {"tres", 3}, {"cuatro", 4}, {"cinco", 5}, {"seis", 6}, {"siete", 7}, {"ocho", 8}, {"nueve", 9},
    {"diez", 10}, {"doce", 12}, {"quince", 15}, {"veinte", 20},
    {"dois", 2}, {"duas", 2}, {"três", 3}, {"quatro", 4}, {"sete", 7}, {"oito", 8}, {"nove", 9}, {"dez", 10},
    {"doze", 12}, {"quinze", 15}, {"vinte", 20},
    {"deux", 2}, {"trois", 3}, {"quatre", 4}, {"cinq", 5}, {"six", 6}, {"sept", 7}, {"huit", 8}, {"neuf", 9},
    {"dix", 10}, {"douze", 12}, {"vingt", 20},
    {"zwei", 2}, {"drei", 3}, {"vier", 4}, {"fünf", 5}, {"sechs", 6}, {"sieben", 7}, {"acht", 8}, {"neun", 9},
    {"zehn", 10}, {"zwölf", 12}, {"zwanzig", 20},
    {"due", 2}, {"tre", 3}, {"quattro", 4}, {"cinque", 5}, {"sei", 6}, {"sette", 7}, {"otto", 8}, {"dieci", 10},
    {"dodici", 12}, {"venti", 20},
    {"twee", 2}, {"drie", 3}, {"vijf", 5}, {"zes", 6}, {"zeven", 7}, {"negen", 9}, {"tien", 10}, {"twaalf", 12},
    {"два", 2}, {"две", 2}, {"двух", 2}, {"три", 3}, {"трёх", 3}, {"трех", 3}, {"четыре", 4}, {"четырёх", 4},
    {"пять", 5}, {"пяти", 5}, {"шесть", 6}, {"семь", 7}, {"восемь", 8}, {"девять", 9}, {"десять", 10},
    {"десяти", 10}, {"двадцать", 20},
    {"iki", 2}, {"üç", 3}, {"dört", 4}, {"beş", 5}, {"altı", 6}, {"yedi", 7}, {"sekiz", 8}, {"dokuz", 9},
    {"dwa", 2}, {"trzy", 3}, {"cztery", 4}, {"pięć", 5}, {"sześć", 6}, {"siedem", 7}, {"osiem", 8},
    {"dziewięć", 9}, {"dziesięć", 10},
    {"두", 2}, {"세", 3}, {"다섯", 5}, {"여섯", 6}, {"일곱", 7}, {"여덟", 8}, {"아홉", 9},
    {"اثنين", 2}, {"ثلاثة", 3}, {"أربعة", 4}, {"خمسة", 5}, {"عشرة", 10}, {"ثلاث", 3}, {"خمس", 5},
});

// CJK numerals; a count when a counter follows or 前 ("the first") precedes.
std::uint32_t cjkNumeral(std::uint32_t cp) {
  switch (cp) {
    case 0x4E8C: case 0x4E24: case 0x5169: return 2;  // 二 两 兩
    case 0x4E09: return 3;                             // 三
    case 0x56DB: return 4;                             // 四
    case 0x4E94: return 5;                             // 五
    case 0x516D: return 6;                             // 六
    case 0x4E03: return 7;                             // 七
    case 0x516B: return 8;                             // 八
    case 0x4E5D: return 9;                             // 九
    case 0x5341: return 10;                            // 十
    default: return 0;
  }
}

bool isCounter(std::uint32_t cp) {
  // 个 個 种 種 条 條 本 つ 項 项 点 點 位 名 件 首 句 部 步 家 道 大 款 类 類 가 개 명
  static constexpr std::array<std::uint32_t, 27> kCounters = {
      0x4E2A, 0x500B, 0x79CD, 0x7A2E, 0x6761, 0x689D, 0x672C, 0x3064, 0x9805, 0x9879, 0x70B9, 0x9EDE, 0x4F4D, 0x540D,
      0x4EF6, 0x9996, 0x53E5, 0x90E8, 0x6B65, 0x5BB6, 0x9053, 0x5927, 0x6B3E, 0x7C7B, 0x985E, 0xAC00, 0xAC1C};
  for (auto c : kCounters)
    if (c == cp) return true;
  return false;
}

bool isSymbol(std::uint32_t cp) {
  return (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF);
}

bool containsAny(std::string_view text, std::initializer_list<std::string_view> cues) {
  for (auto cue : cues)
    if (text.find(cue) != std::string_view::npos) return true;
  return false;
}

bool isWordByte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

}  // namespace

PromptRequests readPromptRequests(std::string_view prompt) {
  PromptRequests out;
  const auto folded = foldForMatch(lastUserMessage(prompt).substr(0, 4096));
  const std::string_view text(folded);

  out.repetition = containsAny(text, {"repeat", " times", "repite", "repita", "repetir", " veces", " vezes", "répète",
                                      "répétez", " fois", "wiederhol", "mal ", "mal.", "ripeti", " volte", "повтори",
                                      " раз", "重复", "重複", "遍", "繰り返", "回言", "回書", "반복", "번 "});
  out.symbols = containsAny(text, {"emoji", "emoticon", "symbol", "icon", "símbolo", "symbole", "simbolo", "zeichen",
                                   "символ", "эмодзи", "表情", "符号", "符號", "絵文字", "記号", "이모지", "기호"});

  // Words and code points, one pass: number words and digits as counts, CJK
  // numerals with a counter, and symbols shown in the prompt itself.
  std::uint32_t count = 0;
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80 && !isWordByte(c)) {
      previous = c;
      ++i;
      continue;
    }
    // A run of word bytes (ASCII letters and digits, or any non-ASCII code point
    // that is not CJK) is one word.
    std::uint32_t cp = 0;
    const auto length = utf8::decode(text, i, cp);
    if (length == 0) {
      ++i;
      continue;
    }
    const bool cjk = (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FFF);
    if (isSymbol(cp)) out.symbols = true;
    if (cjk) {
      if (const auto n = cjkNumeral(cp)) {
        std::uint32_t next = 0;
        const bool counterAfter = i + length < text.size() && utf8::decode(text, i + length, next) && isCounter(next);
        if (counterAfter || previous == 0x524D /* 前 */) count = std::max(count, n);
      }
      previous = cp;
      i += length;
      continue;
    }
    std::size_t end = i;
    while (end < text.size()) {
      std::uint32_t w = 0;
      const auto l = utf8::decode(text, end, w);
      if (l == 0 || !(w < 0x80 ? isWordByte(static_cast<unsigned char>(w)) : !isSymbol(w) && w != 0x3000 &&
                                                                                  !(w >= 0x3040 && w <= 0x9FFF) &&
                                                                                  !(w >= 0x2000 && w <= 0x206F) && w != 0xA0))
        break;
      end += l;
    }
    if (end == i) end = i + length;
    const auto word = text.substr(i, end - i);
    std::uint32_t value = 0;
    const auto digits = std::min(word.find_first_not_of("0123456789"), word.size());
    if (digits > 0) {
      // Digits alone or before a counter ("5가지"); not "3d", "mp3", "3.5" or "2,000".
      const bool counterAfter = digits == word.size() || static_cast<unsigned char>(word[digits]) >= 0x80;
      const auto isDigit = [&text](std::size_t k) { return text[k] >= '0' && text[k] <= '9'; };
      const bool decimal = (end + 1 < text.size() && (text[end] == '.' || text[end] == ',') && isDigit(end + 1)) ||
                           (i >= 2 && (text[i - 1] == '.' || text[i - 1] == ',') && isDigit(i - 2));
      if (digits <= 2 && counterAfter && !decimal)
        for (std::size_t d = 0; d < digits; ++d) value = value * 10 + static_cast<std::uint32_t>(word[d] - '0');
    } else {
      for (const auto& nw : kNumberWords)
        if (nw.word == word) {
          value = nw.value;
          break;
        }
      // Korean: a number word glued to its counter ("다섯 가지" or "다섯가지").
      if (value == 0)
        for (const auto& nw : kNumberWords)
          if (nw.word.size() >= 3 && static_cast<unsigned char>(nw.word[0]) >= 0xEA && word.starts_with(nw.word) &&
              (word.substr(nw.word.size()).starts_with("가지") || word.substr(nw.word.size()).starts_with("개"))) {
            value = nw.value;
            break;
          }
    }
    if (value >= 2 && value <= kMaxCount) count = std::max(count, value);
    previous = 'a';
    i = end;
  }
  out.itemCount = count;
  return out;
}

namespace {

// Japanese is written with kana; a line of Han characters alone ("富士山有多高？")
// is Chinese, though CLD2 calls it Japanese as readily.
bool hasKana(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const auto length = utf8::decode(text, i, cp);
    if (cp >= 0x3040 && cp <= 0x30FF && length > 0) return true;
    i += length > 0 ? length : 1;
  }
  return false;
}

// The text without capitalised Latin or Cyrillic words that do not start a
// sentence (product and place names); empty when it has none.
std::string withoutNames(std::string_view text) {
  std::string out;
  bool dropped = false;
  bool sentenceStart = true;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    const auto word = text.substr(i, end - i);
    std::size_t lead = 0;  // opening punctuation: ¿ ¡ " ( «
    while (lead < word.size() && std::string_view("\"'(").find(word[lead]) != std::string_view::npos) ++lead;
    if (word.substr(lead).starts_with("¿") || word.substr(lead).starts_with("¡") || word.substr(lead).starts_with("«"))
      lead += 2;
    std::uint32_t first = 0;
    const bool capital = lead < word.size() && utf8::decode(word, lead, first) > 0 &&
                         ((first >= 'A' && first <= 'Z') || (first >= 0xC0 && first <= 0xDE) ||
                          (first >= 0x410 && first <= 0x42F));
    if (!word.empty() && (sentenceStart || !capital)) {
      out.append(word);
      out.push_back(' ');
    } else if (!word.empty()) {
      dropped = true;
    }
    if (!word.empty()) sentenceStart = std::string_view(".!?:").find(word.back()) != std::string_view::npos;
    i = end + 1;
  }
  return dropped ? out : std::string();
}

}  // namespace

PromptReading readPrompt(std::string_view prompt) {
  PromptReading out;
  out.message = lastUserMessage(prompt);
  auto asked = identifyLanguage(out.message);
  if (asked.reliable) out.language = std::move(asked.code);
  if (out.language == "ja" && !hasKana(out.message.substr(0, 4096))) out.language = "zh";

  out.asksForLanguage = asksForALanguage(prompt);
  out.requests = readPromptRequests(prompt);
  return out;
}

bool languageRestsOnNames(std::string_view message, std::string_view language) {
  const auto plain = withoutNames(message.substr(0, 512));
  if (plain.empty()) return false;
  const auto again = identifyLanguage(plain);
  return again.reliable && !sameLanguage(again.code, language);
}

void PromptReading::applyTo(ScorerInput& in) const {
  in.promptMessage = message;
  in.promptLanguage = language;
  in.promptAsksForLanguage = asksForLanguage;
  in.promptRequests = requests;
}

}  // namespace infergate::quality
