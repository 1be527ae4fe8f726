// Refusals in the languages the defaults cover, and the answers that contain
// a refusal's words without the model declining.
#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

namespace {
bool refuses(std::string_view text) {
  const ScorerSettings settings;
  return isRefusal(text, settings.refusalPhrases, settings.refusalWindowBytes);
}
const std::string kLongWork(2000, 'x');
}  // namespace

TEST(Refusal, TheModelDecliningInEachDefaultLanguage) {
  for (std::string_view text : {
           "I'm sorry, but I can't help with that request.",
           "Unfortunately, I cannot share personal data about private individuals.",
           "As an AI, I don't have the ability to browse the internet, so I can't check today's prices.",
           "抱歉，我无法提供这方面的帮助。",
           "这个请求无法满足您的请求范围内的需求，恕我无法协助。",
           "很抱歉，我無法提供這方面的資訊。",
           "申し訳ありませんが、そのご要望にはお応えできません。",
           "죄송하지만 그 요청은 도와드릴 수 없습니다.",
           "Извините, но я не могу помочь с этим запросом.",
           "К сожалению, я не могу предоставить эту информацию.",
           "Lo siento, pero no puedo ayudarte con eso.",
           "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
           "Je suis désolé, mais je ne peux pas vous aider avec cette demande.",
           "DÉSOLÉ, MAIS JE NE PEUX PAS faire cela.",
           "عذرًا، لا أستطيع المساعدة في هذا الطلب.",
       })
    EXPECT_TRUE(refuses(text)) << text;
}

TEST(Refusal, AfterAFriendlyOrApologeticPreamble) {
  EXPECT_TRUE(refuses("Thank you so much for reaching out, and I really appreciate how much thought you have put into "
                      "this question; it is clear that it matters to you and to the people around you, and I understand "
                      "why you would want a quick and definite answer to it before the end of the week. That said, "
                      "after careful consideration I'm unable to help with writing that message."));
  // A real answer (past the opening window) with an aside at its end is not a refusal.
  EXPECT_FALSE(refuses("The capital of France is Paris. It has been the seat of government for centuries, apart from a "
                       "few short periods, and is home to about two million people within the city limits. It is known "
                       "for its museums, its cafes and the river Seine that divides it into a left bank and a right "
                       "bank. Most visitors arrive by train. If you ask I'm unable to say more about its suburbs."));
}

TEST(Refusal, QuotedListedTranslatedOrClassifiedIsNotTheModelDeclining) {
  for (std::string_view text : {
           R"(Common refusal phrases include "I'm sorry, but I can't" and "I must decline".)",
           "> I'm sorry, but I can't help with that.\n\nThis is how the assistant answered in the log you sent.",
           R"({"text": "I'm sorry, but I can't help with that.", "label": "refusal"})",
           "\"Lo siento, pero no puedo\" translates to \"I'm sorry, but I can't\".",
           "Here's a polite reply you can send:\n\nDear Anna,\n\nI'm sorry, but I can't attend the meeting on Friday.",
           "```\nprint(\"I'm sorry, but I can't\")\n```",
           "中文翻译：抱歉，我无法参加。",
       })
    EXPECT_FALSE(refuses(text)) << text;
}

TEST(Refusal, APartialDeclineFollowedByTheWorkIsNotARefusal) {
  EXPECT_FALSE(refuses("I can't browse the web, but here is what I know:\n\n" + kLongWork));
  EXPECT_TRUE(refuses("I'm sorry, but I can't help with that. " + std::string(300, 'y')));
}

TEST(Refusal, FoldingMatchesCommonSpellings) {
  EXPECT_EQ(foldForMatch("I’M SORRY"), "i'm sorry");
  EXPECT_EQ(foldForMatch("ИЗВИНИТЕ, НО"), "извините, но");
  EXPECT_EQ(foldForMatch("抱歉，我"), "抱歉,我");
  EXPECT_EQ(foldForMatch("عذرًا، لا"), "عذرا, لا");
  EXPECT_EQ(foldForMatch("Ça"), "ça");
}

TEST(Refusal, ItalianDutchTurkishAndPolishDeclines) {
  const auto phrases = ScorerSettings::defaultRefusalPhrases();
  for (const char* text : {"Mi dispiace, ma non posso aiutarti con questa richiesta.",
                           "Purtroppo non sono in grado di fornire questa informazione.",
                           "Het spijt me, maar daar kan ik je niet mee helpen.",
                           "ÜZGÜNÜM, ANCAK bu isteğe yardımcı olamam.",  // capitals fold, Ü and İ too
                           "Przepraszam, ale nie mogę pomóc w tej sprawie."})
    EXPECT_TRUE(isRefusal(text, phrases, 300)) << text;
}

TEST(Refusal, ALetterTheUserAskedForIsNotTheModelDeclining) {
  const auto phrases = ScorerSettings::defaultRefusalPhrases();
  EXPECT_FALSE(isRefusal("Liebe Anna,\n\nvielen Dank für die Einladung! Leider kann ich an dem Abend nicht kommen.\n\n"
                         "Herzliche Grüße\nMaria",
                         phrases, 300));
  EXPECT_FALSE(isRefusal("Estimado Sr. López:\n\nLo siento, pero no puedo asistir a la reunión del jueves.", phrases, 300));
  // A greeting on its own line with no comma or colon opens the model's own answer.
  EXPECT_TRUE(isRefusal("Hallo!\nLeider kann ich dir dabei nicht helfen.", phrases, 300));
}
