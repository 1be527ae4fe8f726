#include "filters/quality/decline_grammar.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <string>

namespace infergate::quality {

namespace {

// Alphabetic languages: after a non-letter, so that "ich" is not "dich".
constexpr std::string_view kWordPatterns[] = {
    // English: the speaker, a negated ability or will, the task.
    R"((?:i|we)(?: am|'m| are|'re)? (?:really |simply |just |afraid i |sorry, i )?(?:can't|cannot|can not|won't|will not|(?:am |'m )?unable to|(?:am |'m )?not able to|(?:am |'m )?not going to|don't think i can|do not think i can) (?:be able to )?(?:help|assist|answer|respond|provide|do that|do this|tell|write|share|comply|fulfil|fulfill|complete|give|create|generate|discuss|talk about|offer|recommend|continue|engage|support|produce|translate|summari[sz]e|be writing|be answering|be helping))",
    R"(i(?:'m| am) not comfortable)",
    R"(i(?:'d| would) (?:rather|prefer) not)",
    R"(i(?:'ll| will)? (?:must |have to |need to )?(?:respectfully )?decline)",
    R"((?:goes|go|is|are|would be|runs) against my (?:guidelines|policies|policy|principles|programming|rules))",
    R"(i(?:'m| am) not (?:allowed|permitted) to)",
    R"((?:that's|that is|isn't|is not|'s not) something (?:i|we) (?:can|am able|'m able|could))",
    R"(i(?:'m| am|'ll| will) (?:going to )?(?:have to )?pass on)",
    R"(outside (?:of )?(?:what|the scope of what) i(?:'m| am| can))",
    // German: "ich" next to the verb (a subject-less "kann nicht helfen" is
    // about something else: "Antibiotika können nicht helfen").
    R"((?:ich (?:kann|darf|werde|möchte)|(?:kann|darf|werde|möchte) ich) (?:ihnen |dir |euch )?(?:(?:das|dies|dabei|darauf|hierzu|dazu|diese frage|diese anfrage|hier|leider|so|damit|mich) )*(?:leider )?(?:nicht|keine) (?:helfen|beantworten|sagen|tun|machen|schreiben|erstellen|geben|antworten|auskunft|erfüllen|weiterhelfen|unterstützen|äußern))",
    R"((?:verstößt|verstoßen) gegen meine (?:richtlinien|regeln))",
    // French.
    R"(je ne (?:peux|pourrai|pourrais|saurais|suis pas en mesure d[e']|vais) (?:pas )?(?:vous |t'|te |y )?(?:aider|répondre|donner|fournir|faire|écrire|dire|communiquer|satisfaire))",
    R"(je (?:préfère|préférerais) ne pas)",
    R"(je ne suis pas (?:en capacité|en mesure|en position|autorisée?) de)",
    R"((?:va|vont|est) à l'encontre de mes (?:règles|principes|directives))",
    // Spanish.
    R"(no (?:puedo|podré|podría|me es posible|estoy en condiciones de|soy capaz de|voy a) (?:te |le |les )?(?:ayudar|responder|hacer|proporcionar|dar|escribir|ofrecer|cumplir|realizar|contestar|compartir))",
    R"(prefiero no (?:responder|contestar|opinar|hablar|comentar))",
    // Portuguese.
    R"(não (?:posso|consigo|sou capaz de|vou) (?:te |lhe )?(?:ajudar|responder|fazer|fornecer|dar|escrever|cumprir|realizar|compartilhar))",
    R"(prefiro não (?:responder|opinar|comentar))",
    // Italian.
    R"(non (?:posso|sono in grado di|riesco a|potrò) (?:aiutar[a-z]*|rispondere|fare|fornire|dare|scrivere|soddisfare))",
    R"(preferisco non (?:rispondere|commentare))",
    // Russian ("не могу сказать точно, но..." is an answer: no "сказать").
    R"((?:я )?не (?:могу|смогу|буду|в состоянии) (?:вам |тебе )?(?:с этим |в этом |на этот вопрос )?(?:помочь|ответить|выполнить|предоставить|написать|рассказать|отвечать|помогать))",
    R"((?:ответить|помочь) (?:я |вам )?не (?:могу|смогу))",
    // Dutch, Turkish, Polish, Arabic.
    R"((?:ik kan|kan ik) (?:je |u )?(?:(?:daar|hier|dat|dit|daarmee|helaas) )*(?:niet|geen) (?:mee )?(?:helpen|beantwoorden|antwoord|doen|geven|schrijven))",
    R"((?:yardımcı olamam|yardımcı olamıyorum|cevap veremem|yanıt veremem|cevaplayamam|yanıtlayamam|bunu yapamam))",
    R"(nie (?:mogę|jestem w stanie) (?:ci |pani |panu )?(?:pomóc|odpowiedzieć|tego zrobić|napisać|udzielić))",
    R"(لا (?:يمكنني|أستطيع|بإمكاني) (?:الإجابة|المساعدة|مساعدتك|تقديم|القيام|الرد))",
};

// Scripts without spaces between words: no boundary.
constexpr std::string_view kCjkPatterns[] = {
    R"((?:我|本人)(?:暂时|暫時)?(?:不能|无法|無法|没办法|沒辦法|没有办法|沒有辦法|不便|不方便|不可以|帮不了|幫不了)(?:为你|为您|為你|為您|向你|向您)?(?:告诉|告訴|回答|提供|帮|幫|协助|協助|透露|评论|評論|推荐|推薦|完成|满足|滿足|处理|處理|给出|給出|写|寫|做))",
    R"((?:不便|无法|無法|不能)(?:回答|透露|评论|評論)(?:这|這|此|你|您))",
    R"((?:お答え|回答|お手伝い|対応|ご案内|お伝え|ご提供|提供|お応え|ご協力)(?:すること)?(?:が|は)?(?:でき(?:ません|かねます)|いたしかねます|致しかねます|しかねます))",
    R"((?:답할|답변할|답변을 드릴|답변드릴|답해 드릴|도와드릴|도와 드릴|도울|알려드릴|알려 드릴|말씀드릴|말씀 드릴|제공할|제공해 드릴|처리할|수행할|응답할) ?수 ?(?:가 )?없)",
};

std::string grammarPattern() {
  std::string words, cjk;
  for (auto p : kWordPatterns) words += (words.empty() ? "" : "|") + std::string(p);
  for (auto p : kCjkPatterns) cjk += (cjk.empty() ? "" : "|") + std::string(p);
  return "(?:^|[^\\pL])(" + words + ")|(" + cjk + ")";
}

}  // namespace

DeclineGrammar::DeclineGrammar() {
  re2::RE2::Options options;
  options.set_log_errors(true);
  options.set_max_mem(32 << 20);
  re_ = std::make_unique<re2::RE2>(grammarPattern(), options);
}

DeclineGrammar::~DeclineGrammar() = default;

const DeclineGrammar& DeclineGrammar::builtIn() {
  static const DeclineGrammar grammar;
  return grammar;
}

bool DeclineGrammar::anyAt(std::string_view text, std::size_t from, std::size_t to,
                           const std::function<bool(std::size_t, std::size_t)>& found) const {
  if (!re_->ok()) return false;
  // A decline starting before `to` may end a little after it.
  const std::size_t end = std::min(text.size(), to + 160);
  re2::StringPiece groups[3];
  for (std::size_t pos = from; pos < end;) {
    if (!re_->Match(re2::StringPiece(text.data(), text.size()), pos, end, re2::RE2::UNANCHORED, groups, 3)) return false;
    const auto& core = groups[1].data() ? groups[1] : groups[2];
    const auto at = static_cast<std::size_t>(core.data() - text.data());
    if (at >= to) return false;
    if (found(at, core.size())) return true;
    pos = at + 1;
  }
  return false;
}

}  // namespace infergate::quality
