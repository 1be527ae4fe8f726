#include "filters/quality/decline_grammar.hpp"

#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

namespace {
// The grammar alone (no phrase list), as isRefusal runs it.
bool declines(std::string_view text) { return isRefusal(text, RefusalPhrases(std::vector<std::string>{}), 300); }
}  // namespace

TEST(DeclineGrammar, DeclinesWordedOutsideThePhraseLists) {
  for (const char* text : {
           "I'm not comfortable helping with that.",
           "I'd rather not answer that question.",
           "That request goes against my guidelines, so I won't be writing it.",
           "I'm afraid I cannot provide that.",
           "Das kann ich nicht beantworten.",
           "Darauf möchte ich mich nicht äußern.",
           "Je préfère ne pas répondre à cette question.",
           "Je ne pourrai pas vous aider sur ce point.",
           "No puedo hacer eso.",
           "Não posso responder a isso.",
           "Non posso rispondere a questa domanda.",
           "На этот вопрос я ответить не могу.",
           "Я не могу помочь с этим.",
           "这个我不能告诉你。",
           "這個我無法回答你。",
           "それについてはお答えできません。",
           "그 질문에는 답할 수 없어요.",
           "Daar kan ik je niet mee helpen.",
           "Bu konuda cevap veremem.",
           "Nie mogę odpowiedzieć na to pytanie.",
           "لا يمكنني الإجابة عن هذا السؤال.",
       })
    EXPECT_TRUE(declines(text)) << text;
}

TEST(DeclineGrammar, NegationsThatAreNotDeclines) {
  for (const char* text : {
           "I can't stress enough how much a regular sleep schedule helps memory.",
           "Antibiotika können nicht helfen, wenn eine Erkältung von Viren kommt.",
           "Не могу сказать точно, но обычно поезд идёт около четырёх часов.",
           "申し訳ありませんが、一言でまとめるのは難しいので、三つのポイントに分けて説明します。",
           "You can't divide by zero: the result is undefined.",
           "我无法确定具体日期，但一般在三月举行。",
       })
    EXPECT_FALSE(declines(text)) << text;
}

TEST(DeclineGrammar, AskingForAMissingAttachmentIsNotADecline) {
  const ScorerSettings settings;
  EXPECT_FALSE(isRefusal("Unfortunately, I can't see any attachment in our conversation; could you paste the text here?",
                         settings.refusalPhrases, 300));
  EXPECT_TRUE(isRefusal("Unfortunately, I can't help with that. Is there anything else I can do for you?",
                        settings.refusalPhrases, 300));
}

TEST(DeclineGrammar, AConfiguredListForEveryLanguageTurnsTheGrammarOff) {
  const auto onlyMine = RefusalPhrases({foldForMatch("computer says no")}).withoutGrammar();
  EXPECT_FALSE(isRefusal("I'd rather not answer that question.", onlyMine, 300));
  EXPECT_TRUE(isRefusal("Computer says no.", onlyMine, 300));
}

TEST(DeclineGrammar, AShortAnswerThatApologisesNegatesAndSpeaksOfAbility) {
  for (const char* text : {"Tut mir leid, das ist mir nicht möglich.", "Désolé, ce n'est pas quelque chose que je peux faire.",
                           "Mi spiace, non è qualcosa con cui posso aiutarti.",
                           "Lo siento, no tengo la capacidad de ayudarte con recomendaciones.",
                           "すみません、その質問には答えられません。", "不好意思，这个忙我帮不上。",
                           "미안하지만 그건 내가 도와줄 수 없어.", "Üzgünüm, bu konuda yardımcı olamam."})
    EXPECT_TRUE(declines(text)) << text;
  for (const char* text : {
           "Sorry for the confusion: the answer is not 12 but 13.",  // no word of ability
           "Sorry, I misread: you can't use that flag with -r, but --recursive works.",  // not the speaker's
           "You can say: «Lo siento, no puedo ir a la reunión de mañana».",           // quoted
       })
    EXPECT_FALSE(declines(text)) << text;
}
