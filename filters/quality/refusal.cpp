// Refusal detection: the model declining, in the answer's own words (eleven
// languages by default: en, zh, zh-Hant, ja, ko, ru, es, pt, de, fr, ar).
//
// A configured phrase must be the model's: near the start of the answer, or
// closing an answer that opened courteously (a friendly or apologetic
// preamble that ends in a decline); not inside quotes, a quoted line or a code block (an answer that
// quotes, lists, translates or classifies a refusal); not after a cue that
// the text is a draft or a translation the user asked for ("here's a polite
// reply:", "Dear ...", "translates to"); and not followed by a substantive
// answer (a partial decline, then the work).
//
// Matching folds case in Latin, Latin-1, Cyrillic and Greek, maps the
// typographic apostrophe to ', the full-width, ideographic and Arabic commas
// to ',' and no-break spaces to spaces, and drops Arabic diacritics, so one
// folded phrase matches its common spellings.
#include <array>
#include <cstdint>
#include <string>

#include "filters/core/utf8.hpp"
#include "filters/quality/scorers.hpp"

namespace infergate::quality {

std::vector<std::pair<std::string, std::vector<std::string>>> ScorerSettings::defaultRefusalPhrasesByLanguage() {
  return {
      {"en",
       {"i'm sorry, but i can't", "i'm sorry, but i cannot", "i am sorry, but i cannot", "i'm sorry, i can't",
        "sorry, but i can't", "sorry, i can't", "sorry, i cannot", "i can't help with", "i cannot help with",
        "i can't assist with", "i cannot assist with", "i can't provide", "i cannot provide", "i can't comply",
        "i cannot comply", "i'm unable to", "i am unable to", "i'm not able to", "i am not able to",
        "i won't be able to", "i must decline", "i apologize, but i", "as an ai language model", "as an ai, i cannot",
        "as an ai, i can't", "as an ai, i don't have", "as an ai, i do not have", "unfortunately, i can't",
        "unfortunately, i cannot", "i'm afraid i can't", "i'm afraid i cannot", "i can't do that", "i cannot do that",
        "i'm not allowed to", "i am not allowed to", "that's not something i can", "i won't help", "i will not help"}},
      {"zh",
       {"抱歉,我无法", "抱歉,我不能", "对不起,我无法", "对不起,我不能", "很抱歉,我无法", "很抱歉,我不能",
        "我无法提供", "我不能提供", "我无法帮助", "我不能帮助", "我无法协助", "我不能协助", "我无法回答", "我不能回答",
        "作为一个人工智能", "作为一个ai", "作为人工智能语言模型", "无法满足你的请求", "无法满足您的请求", "我不能满足",
        "这超出了我的能力", "恕我无法", "我没有办法帮", "不能为你提供", "不能为您提供", "我无法完成"}},
      {"zh-hant",
       {"抱歉,我無法", "抱歉,我不能", "很抱歉,我無法", "很抱歉,我不能", "對不起,我無法", "我無法提供", "我無法協助",
        "我無法幫助", "我不能提供", "我無法回答", "無法滿足您的請求", "無法滿足你的請求", "作為一個人工智慧",
        "作為人工智慧"}},
      {"ja",
       {"申し訳ありませんが", "申し訳ございませんが", "お手伝いできません", "お答えできません", "お応えできません",
        "提供できません", "対応できません", "できかねます", "ご要望にはお応えできません", "aiとして"}},
      {"ko",
       {"죄송하지만", "죄송합니다만", "도와드릴 수 없", "제공할 수 없", "제공해 드릴 수 없", "답변드릴 수 없",
        "답변할 수 없", "ai로서", "ai 언어 모델로서"}},
      {"ru",
       {"извините, но я не могу", "к сожалению, я не могу", "я не могу помочь", "я не могу предоставить",
        "я не могу выполнить", "не могу помочь с", "как ии,", "как языковая модель", "я не в состоянии",
        "прошу прощения, но я не"}},
      {"es",
       {"lo siento, pero no puedo", "lo siento, no puedo", "no puedo ayudarte con", "no puedo ayudar con",
        "no puedo proporcionar", "lamentablemente, no puedo", "como modelo de lenguaje", "como ia, no",
        "no me es posible"}},
      {"de",
       {"es tut mir leid, aber ich kann", "tut mir leid, aber ich kann", "ich kann dir dabei nicht helfen",
        "ich kann ihnen dabei nicht helfen", "ich kann nicht helfen", "leider kann ich", "als ki,", "als sprachmodell",
        "ich bin nicht in der lage", "dabei kann ich nicht helfen"}},
      {"fr",
       {"je suis désolé, mais je ne peux pas", "je suis désolée, mais je ne peux pas", "désolé, mais je ne peux pas",
        "désolée, mais je ne peux pas", "je ne peux pas vous aider", "je ne peux pas t'aider", "je ne peux pas fournir",
        "malheureusement, je ne peux pas", "en tant qu'ia", "en tant que modèle de langage",
        "je ne suis pas en mesure de"}},
      {"pt",
       {"desculpe, mas não posso", "lamento, mas não posso", "não posso ajudar com", "infelizmente, não posso",
        "como ia, não", "como modelo de linguagem"}},
      {"ar",
       {"عذرا, لا أستطيع", "عذرا, لا يمكنني", "آسف, لا أستطيع", "آسف, لا يمكنني", "لا يمكنني مساعدتك",
        "لا أستطيع مساعدتك", "لا يمكنني تقديم", "لا أستطيع تقديم", "بصفتي نموذج", "كذكاء اصطناعي"}},
  };
}

std::vector<std::string> ScorerSettings::defaultRefusalPhrases() {
  std::vector<std::string> all;
  for (auto& [language, phrases] : defaultRefusalPhrasesByLanguage())
    for (auto& p : phrases) all.push_back(foldForMatch(p));
  return all;
}

namespace {

// The folded form of one code point; 0 drops it.
std::uint32_t fold(std::uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;  // Latin-1 capitals
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 0x20;  // Greek capitals
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 // Cyrillic А-Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;                 // Ё, Ђ, ...
  if (cp == 0x2019 || cp == 0x2018) return '\'';
  if (cp == 0xFF0C || cp == 0x3001 || cp == 0x060C) return ',';
  if (cp == 0xA0 || cp == 0x202F || cp == 0x3000) return ' ';
  if ((cp >= 0x64B && cp <= 0x652) || cp == 0x670) return 0;  // Arabic diacritics
  return cp;
}

// Where the text before `at` (in the folded answer) says the phrase is not
// the model's own decline.
bool quotedOrDrafted(std::string_view folded, std::size_t at) {
  // Inside a code block: an odd number of fences before it.
  std::size_t fences = 0;
  for (auto p = folded.find("```"); p != std::string_view::npos && p < at; p = folded.find("```", p + 3)) ++fences;
  if (fences % 2 == 1) return true;
  // Inside quotes on its line (an opening quote not yet closed), or on a
  // quoted line ("> ...").
  const auto lineStart = at == 0 ? std::string_view::npos : folded.rfind('\n', at - 1);
  const auto line = folded.substr(lineStart == std::string_view::npos ? 0 : lineStart + 1);
  if (!line.empty() && line.front() == '>') return true;
  const auto upTo = line.substr(0, at - (lineStart == std::string_view::npos ? 0 : lineStart + 1));
  const auto count = [&upTo](std::string_view q) {
    std::size_t n = 0;
    for (auto p = upTo.find(q); p != std::string_view::npos; p = upTo.find(q, p + q.size())) ++n;
    return n;
  };
  if (count("\"") % 2 == 1 || count("`") % 2 == 1) return true;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kPairs = {
      {{"“", "”"}, {"«", "»"}, {"「", "」"}, {"『", "』"}, {"„", "“"}}};
  for (const auto& [open, close] : kPairs)
    if (count(open) > count(close)) return true;
  // The answer is data (a JSON classification of the phrase, say).
  const auto first = folded.find_first_not_of(" \n\r\t");
  if (first != std::string_view::npos && (folded[first] == '{' || folded[first] == '[')) return true;
  // A draft or translation the user asked for: its cue comes before the phrase.
  static constexpr std::array<std::string_view, 16> kCues = {
      "here's", "here is", "draft", "dear ", "subject:", "translat", "means ", "example", "template",
      "写一封", "翻译", "翻譯", "訳", "번역", "перевод", "traduc"};
  const auto before = folded.substr(0, at);
  for (auto cue : kCues)
    if (before.find(cue) != std::string_view::npos) return true;
  return false;
}

// A friendly or apologetic opening: with one, a decline that closes the
// answer is the point of it, not an aside at the end of a real answer.
bool courteousOpening(std::string_view folded) {
  static constexpr std::array<std::string_view, 31> kCues = {
      "sorry", "apolog", "thank", "understand", "appreciate", "great question", "good question",
      "抱歉", "对不起", "對不起", "谢谢", "感谢", "理解", "申し訳", "ありがとう", "죄송", "감사",
      "извин", "спасибо", "понимаю", "lo siento", "gracias", "entiendo", "entschuldig", "danke", "verstehe",
      "désolé", "merci", "comprends", "عذر", "شكرا"};
  const auto opening = folded.substr(0, 240);
  for (auto cue : kCues)
    if (opening.find(cue) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::string foldForMatch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp;
    const auto length = utf8::decode(text, i, cp);
    if (length == 0) {  // not UTF-8: kept as it is
      out.push_back(text[i++]);
      continue;
    }
    i += length;
    if (const auto f = fold(cp)) utf8::append(out, f);
  }
  return out;
}

bool isRefusal(std::string_view text, const std::vector<std::string>& phrases, std::size_t windowBytes) {
  // An answer longer than this after the decline went on to do the work.
  constexpr std::size_t kSubstantiveBytes = 1500;
  // A decline this close to the end closes the answer (after a preamble).
  constexpr std::size_t kClosingBytes = 400;
  const auto folded = foldForMatch(text.substr(0, 16 * 1024));
  const std::string_view all(folded);
  std::size_t start = 0;
  while (start < all.size() && (all[start] == ' ' || all[start] == '\n' || all[start] == '\r' || all[start] == '\t' ||
                                all[start] == '*'))
    ++start;
  const bool courteous = courteousOpening(all.substr(start));
  // Only two stretches can hold the model's decline: the opening window and,
  // after a courteous opening, the closing bytes. Searching just those keeps
  // the cost flat in the answer's length.
  const auto declines = [&](std::size_t at, std::size_t length) {
    const std::size_t after = all.size() - (at + length);
    const bool nearStart = at - start < windowBytes;
    const bool closing = courteous && after <= kClosingBytes;
    return (nearStart || closing) && after <= kSubstantiveBytes && !quotedOrDrafted(all, at);
  };
  const auto searchIn = [&](std::size_t from, std::size_t to, const std::string& phrase) {
    const auto stretch = all.substr(0, std::min(to, all.size()));
    for (auto at = stretch.find(phrase, from); at != std::string_view::npos; at = stretch.find(phrase, at + 1))
      if (declines(at, phrase.size())) return true;
    return false;
  };
  const std::size_t closingFrom = all.size() > kClosingBytes + 256 ? all.size() - kClosingBytes - 256 : start;
  for (const auto& phrase : phrases) {
    if (searchIn(start, start + windowBytes + phrase.size(), phrase)) return true;
    if (courteous && searchIn(std::max(closingFrom, start), all.size(), phrase)) return true;
  }
  return false;
}

}  // namespace infergate::quality
