// Refusal detection: the model declining, in the answer's own words (fifteen
// languages by default: en, zh, zh-Hant, ja, ko, ru, es, pt, de, fr, ar, it,
// nl, tr, pl).
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
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "filters/quality/refusal.hpp"

#include "filters/core/utf8.hpp"
#include "filters/quality/decline_grammar.hpp"
#include "filters/quality/scorers.hpp"

namespace infergate::quality {

std::vector<std::pair<std::string, std::vector<std::string>>> ScorerSettings::defaultRefusalPhrasesByLanguage() {
  return {
      {"en",
       {"i'm sorry, but i can't", "i'm sorry, but i cannot", "i am sorry, but i cannot", "i'm sorry, i can't",
        "sorry, but i can't", "sorry, i can't", "sorry, i cannot", "i can't help with", "i cannot help with",
        "i can't assist with", "i cannot assist with", "i can't provide", "i cannot provide", "i can't comply",
        "i cannot comply", "i'm unable to", "i am unable to", "i'm not able to", "i am not able to",
        "i won't be able to", "i must decline", "as an ai language model", "as an ai, i cannot",
        "as an ai, i can't", "as an ai, i don't have", "as an ai, i do not have", "unfortunately, i can't",
        "unfortunately, i cannot", "i'm afraid i can't", "i'm afraid i cannot", "i can't do that", "i cannot do that",
        "i'm not allowed to", "i am not allowed to", "that's not something i can", "i won't help", "i will not help",
        "not something i'm able to", "not something i am able to", "i'm not able to help", "i can't help you with",
        "i'm unable to help", "i can't fulfill", "i cannot fulfill", "i can't fulfil", "i cannot fulfil",
        "i'm not in a position to", "i don't have the ability to", "i do not have the ability to",
        "i'm not going to be able to", "i'm sorry, but that's not", "i can't answer", "i cannot answer",
        "i can't complete", "i cannot complete", "i apologize, but i won't", "i must respectfully decline",
        "i'm not able to provide", "i'm not able to assist"}},
      {"zh",
       {"抱歉,我无法", "抱歉,我不能", "对不起,我无法", "对不起,我不能", "很抱歉,我无法", "很抱歉,我不能",
        "我无法提供", "我不能提供", "我无法帮助", "我不能帮助", "我无法协助", "我不能协助", "我无法回答", "我不能回答",
        "作为一个人工智能", "作为一个ai", "作为人工智能语言模型", "无法满足你的请求", "无法满足您的请求", "我不能满足",
        "这超出了我的能力", "恕我无法", "我没有办法帮", "不能为你提供", "不能为您提供", "我无法完成",
        "暂时无法回答", "我暂时无法", "我没办法满足", "没办法满足这个", "无法回答这个问题", "无法回答您的问题",
        "我不能回答这个", "无法处理这个请求", "无法处理您的请求", "我帮不了", "我无法为您", "我无法为你",
        "不便回答", "无法提供帮助", "作为ai助手,我无法", "作为一个ai"}},
      {"zh-hant",
       {"抱歉,我無法", "抱歉,我不能", "很抱歉,我無法", "很抱歉,我不能", "對不起,我無法", "我無法提供", "我無法協助",
        "我無法幫助", "我不能提供", "我無法回答", "無法滿足您的請求", "無法滿足你的請求", "作為一個人工智慧",
        "作為人工智慧", "暫時無法回答", "無法處理這個請求", "我沒辦法", "無法提供協助", "我幫不了"}},
      {"ja",
       {"お手伝いできません", "お答えできません", "お応えできません",
        "提供できません", "対応できません", "できかねます", "ご要望にはお応えできません", "aiとして",
        "お答えすることができません", "お手伝いすることができません", "お答えしかねます",
        "ご期待に添えず", "回答できません", "お答えできかねます"}},
      {"ko",
       {"도와드릴 수 없", "제공할 수 없", "제공해 드릴 수 없", "답변드릴 수 없",
        "답변할 수 없", "ai로서", "ai 언어 모델로서", "처리할 수 없", "수행할 수 없", "도움을 드릴 수 없",
        "도와 드릴 수 없", "답변을 드릴 수 없", "응답할 수 없", "해 드릴 수 없", "언어 모델로서"}},
      {"ru",
       {"извините, но я не могу", "к сожалению, я не могу", "я не могу помочь", "я не могу предоставить",
        "я не могу выполнить", "не могу помочь с", "как ии,", "как языковая модель", "я не в состоянии",
        "прошу прощения, но я не", "к сожалению, не могу", "не могу ответить на", "я не могу ответить",
        "не могу с этим помочь", "не могу этого сделать", "я не могу это сделать", "вынужден отказать",
        "не имею возможности", "как модель ии", "как ии, я не"}},
      {"es",
       {"lo siento, pero no puedo", "lo siento, no puedo", "no puedo ayudarte con", "no puedo ayudar con",
        "no puedo proporcionar", "lamentablemente, no puedo", "como modelo de lenguaje", "como ia, no",
        "no me es posible", "no puedo ayudarte", "no puedo ayudarle", "no puedo responder", "no estoy en condiciones de",
        "desafortunadamente, no puedo", "por desgracia, no puedo", "no puedo cumplir", "no puedo realizar",
        "no puedo hacer eso", "no soy capaz de", "como modelo de ia", "como una ia, no"}},
      {"de",
       {"es tut mir leid, aber ich kann", "tut mir leid, aber ich kann", "ich kann dir dabei nicht helfen",
        "ich kann ihnen dabei nicht helfen", "ich kann nicht helfen", "leider kann ich", "als ki,", "als sprachmodell",
        "ich bin nicht in der lage", "dabei kann ich nicht helfen", "entschuldigung, aber ich kann",
        "entschuldigung, aber dazu kann ich", "kann ich keine auskunft geben", "das kann ich leider nicht",
        "ich kann leider nicht", "kann ich leider nicht", "ich darf dir dabei nicht", "ich darf ihnen dabei nicht",
        "diese anfrage kann ich nicht", "als ki-modell", "als ki habe ich keinen", "als ki, habe ich keinen"}},
      {"fr",
       {"je suis désolé, mais je ne peux pas", "je suis désolée, mais je ne peux pas", "désolé, mais je ne peux pas",
        "désolée, mais je ne peux pas", "je ne peux pas vous aider", "je ne peux pas t'aider", "je ne peux pas fournir",
        "malheureusement, je ne peux pas", "en tant qu'ia", "en tant que modèle de langage",
        "je ne suis pas en mesure de", "désolé, je ne peux pas", "désolée, je ne peux pas", "je ne peux pas répondre",
        "je ne peux pas vous répondre", "je ne peux pas t'aider", "je ne peux pas accéder", "je ne peux pas faire cela",
        "je ne peux pas satisfaire", "je ne peux pas donner suite", "il m'est impossible de"}},
      {"pt",
       {"desculpe, mas não posso", "lamento, mas não posso", "não posso ajudar com", "infelizmente, não posso",
        "como ia, não", "como modelo de linguagem", "não consigo ajudar", "infelizmente, não consigo",
        "não sou capaz de", "não posso fornecer", "não posso te ajudar", "não posso ajudá-lo", "não posso ajudá-la",
        "não posso responder", "não tenho como ajudar", "desculpe, não posso", "sinto muito, mas não"}},
      {"ar",
       {"عذرا, لا أستطيع", "عذرا, لا يمكنني", "آسف, لا أستطيع", "آسف, لا يمكنني", "لا يمكنني مساعدتك",
        "لا أستطيع مساعدتك", "لا يمكنني تقديم", "لا أستطيع تقديم", "بصفتي نموذج", "كذكاء اصطناعي",
        "لا يمكنني المساعدة", "لا أستطيع المساعدة", "آسف, لكن لا", "أعتذر, لكن لا", "لا يمكنني الإجابة",
        "لا أستطيع الإجابة", "لا يمكنني القيام"}},
      {"it",
       {"mi dispiace, ma non posso", "mi dispiace, non posso", "non posso aiutarti", "non posso aiutarla",
        "purtroppo non posso", "purtroppo non sono in grado", "non sono in grado di", "non posso fornire",
        "non posso rispondere", "come modello linguistico", "in quanto ia", "in quanto modello", "come ia, non"}},
      {"nl",
       {"sorry, maar ik kan", "daar kan ik je niet mee helpen", "daar kan ik u niet mee helpen",
        "ik kan je daar niet mee helpen", "ik kan je niet helpen", "helaas kan ik", "ik ben niet in staat",
        "als ai-taalmodel", "als taalmodel", "als ai kan ik"}},
      {"tr",
       {"yardımcı olamam", "yardımcı olamıyorum", "maalesef yardımcı", "bir yapay zeka olarak", "bir dil modeli olarak",
        "bu isteği yerine getiremem", "cevap veremem"}},
      {"pl",
       {"przepraszam, ale nie mogę", "niestety nie mogę", "niestety, nie mogę", "nie mogę pomóc", "nie jestem w stanie",
        "jako model językowy", "jako ai nie", "nie mogę odpowiedzieć", "nie mogę spełnić"}},
  };
}

RefusalPhrases::RefusalPhrases(std::vector<std::string> folded) {
  for (auto& p : folded)
    if (p.size() >= 2) phrases_.push_back(std::move(p));
  std::array<std::uint32_t, kBuckets> counts{};
  for (const auto& p : phrases_) ++counts[bucketOf(p[0], p[1])];
  for (std::size_t b = 0; b < kBuckets; ++b) offsets_[b + 1] = offsets_[b] + counts[b];
  order_.resize(phrases_.size());
  auto next = offsets_;
  for (std::uint32_t k = 0; k < phrases_.size(); ++k) order_[next[bucketOf(phrases_[k][0], phrases_[k][1])]++] = k;
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
  // Latin Extended-A pairs capitals with their small letters (Ł, Ş, Ő...);
  // İ (0x130) folds to i.
  if (cp == 0x130) return 'i';
  if (((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) && cp % 2 == 0) return cp + 1;
  if (cp >= 0x139 && cp <= 0x148 && cp % 2 == 1) return cp + 1;
  if (cp == 0x2019 || cp == 0x2018) return '\'';
  if (cp == 0xFF0C || cp == 0x3001 || cp == 0x060C) return ',';
  if (cp == 0xA0 || cp == 0x202F || cp == 0x3000) return ' ';
  if ((cp >= 0x64B && cp <= 0x652) || cp == 0x670) return 0;  // Arabic diacritics
  return cp;
}

// A letter the user asked for: a line before the phrase opens with a
// salutation and ends with a comma or a colon ("Liebe Anna,", "Estimado Sr.
// López:"). A decline opening "Hallo! Leider ..." has no such line.
bool draftedLetter(std::string_view before) {
  static constexpr std::array<std::string_view, 22> kSalutations = {
      "dear ", "hi ", "hello ", "liebe ", "lieber ", "sehr geehrte", "hallo ", "cher ", "chère ", "bonjour ",
      "madame", "monsieur", "querido", "querida", "estimad", "caro ", "cara ", "gentile", "beste ", "здравствуйте",
      "уважаем", "olá "};
  for (auto rest = before; !rest.empty();) {
    const auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty() || line.size() > 80 || (line.back() != ',' && line.back() != ':')) continue;
    for (auto s : kSalutations)
      if (line.starts_with(s)) return true;
  }
  return false;
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
  static constexpr std::array<std::string_view, 30> kCues = {
      "here's", "here is", "draft", "dear ", "subject:", "translat", "means ", "example", "template",
      "写一封", "翻译", "翻譯", "翻訳", "英訳", "和訳", "訳すと", "번역", "перевод", "traduc", "you can say", "you could say", "you could write",
      "puedes decir", "se dice", "可以这样写", "可以这样说", "можно написать", "можно сказать", "vous pouvez dire",
      "sie können sagen"};
  const auto before = folded.substr(0, at);
  for (auto cue : kCues)
    if (before.find(cue) != std::string_view::npos) return true;
  return draftedLetter(before);
}

// "I can't see the attachment; could you paste it?": the model cannot do the
// task without something the user meant to give, and asks for it. That is a
// question back, not a decline.
bool asksForTheMaterial(std::string_view after) {
  static constexpr std::array<std::string_view, 22> kCues = {
      "paste", "upload", "attach", "resend", "re-send", "pegar", "adjunt", "coller", "joindre", "einfügen",
      "hochladen", "anhängen", "incoll", "allega", "colar", "anex", "вставьте", "прикрепите", "粘贴", "上传",
      "貼り付け", "添付"};
  after = after.substr(0, 400);
  for (auto cue : kCues)
    if (after.find(cue) != std::string_view::npos) return true;
  return false;
}

// A short answer that apologises, negates and speaks of ability is a decline
// however it is worded ("Tut mir leid, das ist mir nicht möglich", "不好意思，
// 这个忙我帮不上", "미안하지만 그건 내가 도와줄 수 없어"): a short real answer
// rarely needs all three. Returns where the apology is, or npos.
std::size_t shortApologeticDecline(std::string_view folded) {
  static constexpr auto kApologies = std::to_array<std::string_view>({
      "sorry", "apolog", "afraid", "unfortunately", "lo siento", "lamento", "perdón", "désolé", "tut mir leid",
      "leider", "entschuldig", "mi spiace", "mi dispiace", "purtroppo", "desculp", "infelizmente", "sinto muito",
      "извин", "к сожалению", "прошу прощения", "すみません", "申し訳", "ごめん", "恐れ入", "抱歉", "不好意思",
      "对不起", "對不起", "很遗憾", "很遺憾", "미안", "죄송", "آسف", "عذرا", "maalesef", "üzgünüm", "przepraszam",
      "niestety", "het spijt", "helaas", "disculp", "perdon", "navré", "navrée", "excuse", "scusa", "scusami",
      "прости", "прошу извинить", "ごめんなさい", "失礼", "抱歉", "遗憾", "遺憾"});
  // Negations and words of ability, with spaces around the short ones (the
  // text is padded and its ASCII punctuation made spaces).
  static constexpr auto kNegations = std::to_array<std::string_view>({
      " no ", " not ", "n't ", " never ", " nicht ", " kein", " pas ", " non ", " não ", " не ", " nie ", " niet ",
      " geen ", " لا ", "不", "没", "沒", "无", "無", "ません", "ない", "없", "못 ", " 안 ", "amam", "emem",
      "amıyorum", "emiyorum", "어려워", "어렵", "難しい", "无能为力", "無能為力"});
  static constexpr auto kAbilities = std::to_array<std::string_view>({
      " can", " able", " possible", " capacit", "möglich", " kann", " peux", " puis ", " pouvoir", " posso", " puedo",
      " capacidad", " posible", " consigo", " possível", " могу", " смогу", " получится", "でき", "られ", "える",
      "能", "帮", "幫", "可以", "办法", "辦法", " 수 ", "수 없", "يمكن", "أستطيع", " mogę", " kan ", "yapa", "olama",
      "vere", " riesco", " potere", " give ", " provide", " offer", " answer", " capacité", " pueda", "помог",
      "помочь", "도와", "无能为力", "無能為力"});
  constexpr std::size_t kShortBytes = 200;
  if (folded.size() > kShortBytes) return std::string_view::npos;
  std::string padded = " ";
  for (char c : folded) padded.push_back(std::string_view(".,;:!?()\"'\n").find(c) != std::string_view::npos && c != '\'' ? ' ' : c);
  padded.push_back(' ');
  const auto containsAny = [&padded](auto const& list) {
    for (auto word : list)
      if (padded.find(word) != std::string::npos) return true;
    return false;
  };
  // In Latin-script languages the inability must be the speaker's ("you can't
  // use that flag" is a correction); elsewhere the forms above are the
  // speaker's already (могу, できません, 帮不上, 수 없어).
  static constexpr auto kFirstPerson = std::to_array<std::string_view>({
      " i ", " i'", " me ", " my ", " we ", " ich ", " mir ", " mich ", " wir ", " je ", " j'", " moi ", " tengo ",
      " puedo", " pueda", " posso", " consigo", " mi ", " eu ", " io ", " ik ", " mij ", " mogę", " ben ", "amam",
      "emem"});
  const bool latinOnly = std::none_of(folded.begin(), folded.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0xD0;  // lead bytes of Cyrillic, Arabic, CJK, Hangul...
  });
  // The speaker's: a first-person word within a few bytes of the word of
  // ability ("das ist mir nicht möglich", "que je peux"), or the word itself a
  // first-person form ("posso", "puedo").
  constexpr std::size_t kNear = 12;
  const auto speakersAbility = [&] {
    for (auto ability : kAbilities)
      for (auto at = padded.find(ability); at != std::string::npos; at = padded.find(ability, at + 1)) {
        const auto from = at > kNear ? at - kNear : 0;
        const auto around = std::string_view(padded).substr(from, at - from + ability.size() + kNear);
        for (auto person : kFirstPerson)
          if (around.find(person) != std::string_view::npos) return true;
      }
    return false;
  };
  std::size_t apology = std::string_view::npos;
  for (auto word : kApologies) apology = std::min(apology, folded.find(word));
  if (apology == std::string_view::npos || !containsAny(kNegations) || !containsAny(kAbilities) ||
      (latinOnly && !speakersAbility()))
    return std::string_view::npos;
  return apology;
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

namespace {

void foldInto(std::string& out, std::string_view text) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {  // most answers are mostly ASCII: no decoding for it
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 0x20 : c));
      ++i;
      continue;
    }
    std::uint32_t cp;
    const auto length = utf8::decode(text, i, cp);
    if (length == 0) {  // not UTF-8: kept as it is
      out.push_back(text[i++]);
      continue;
    }
    i += length;
    if (const auto f = fold(cp)) utf8::append(out, f);
  }
}

}  // namespace

std::string foldForMatch(std::string_view text) {
  std::string out;
  foldInto(out, text);
  return out;
}

bool isRefusal(std::string_view text, const RefusalPhrases& phrases, std::size_t windowBytes) {
  // An answer longer than this after the decline went on to do the work.
  constexpr std::size_t kSubstantiveBytes = 1500;
  // A decline this close to the end closes the answer (after a preamble).
  constexpr std::size_t kClosingBytes = 400;
  thread_local std::string folded;
  foldInto(folded, text.substr(0, 16 * 1024));
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
    return (nearStart || closing) && after <= kSubstantiveBytes && !quotedOrDrafted(all, at) &&
           !asksForTheMaterial(all.substr(at + length));
  };
  const auto& grammar = DeclineGrammar::builtIn();
  const auto anyIn = [&](std::size_t from, std::size_t to) {
    return phrases.anyAt(all, from, to, declines) || (phrases.grammar() && grammar.anyAt(all, from, to, declines));
  };
  if (anyIn(start, start + windowBytes)) return true;
  if (phrases.grammar()) {
    const auto apology = shortApologeticDecline(all.substr(start));
    if (apology != std::string_view::npos && !quotedOrDrafted(all, start + apology) &&
        !asksForTheMaterial(all.substr(start + apology)))
      return true;
  }
  const std::size_t closingFrom = all.size() > kClosingBytes + 256 ? all.size() - kClosingBytes - 256 : start;
  return courteous && anyIn(std::max(closingFrom, start + windowBytes), all.size());
}

}  // namespace infergate::quality
