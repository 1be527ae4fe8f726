#include "filters/quality/language_id.hpp"

#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

namespace {
QualityReport answered(std::string_view prompt, std::string_view answer) {
  ScorerInput in;
  in.text = answer;
  in.finishReason = "stop";
  const auto asked = readPrompt(prompt);  // as the quality pipeline does
  asked.applyTo(in);
  return scoreOutput(in, ScorerSettings{});
}
}  // namespace

TEST(LanguageId, IdentifiesSentencesOfEachLanguage) {
  const std::pair<const char*, const char*> cases[] = {
      {"en", "The meeting was moved to Thursday because half of the team is travelling this week."},
      {"es", "La reunión se trasladó al jueves porque la mitad del equipo está de viaje esta semana."},
      {"de", "Das Treffen wurde auf Donnerstag verschoben, weil das halbe Team diese Woche unterwegs ist."},
      {"fr", "La réunion a été déplacée à jeudi parce que la moitié de l'équipe est en déplacement cette semaine."},
      {"ru", "Встречу перенесли на четверг, потому что половина команды на этой неделе в командировке."},
      {"ja", "チームの半分が今週出張中のため、会議は木曜日に変更されました。"},
      {"zh", "因为团队一半的人这周出差，会议改到了星期四。"},
      {"ko", "팀의 절반이 이번 주에 출장 중이라 회의가 목요일로 옮겨졌습니다."},
      {"ar", "تم نقل الاجتماع إلى يوم الخميس لأن نصف الفريق مسافر هذا الأسبوع."},
  };
  for (const auto& [code, text] : cases) {
    const auto guess = identifyLanguage(text);
    EXPECT_EQ(guess.code.substr(0, 2), code) << text;
    EXPECT_TRUE(guess.reliable) << text;
  }
}

TEST(LanguageId, AbstainsOnTooLittleText) {
  EXPECT_FALSE(identifyLanguage("ok").reliable);
  EXPECT_FALSE(identifyLanguage("").reliable);
  EXPECT_FALSE(identifyLanguage("12345 678 90").reliable);
}

TEST(LanguageId, AnAnswerInAnotherLanguageOfTheSameScriptIsFlagged) {
  const auto prompt = "system: You are a helpful assistant.\nuser: Can you explain why the meeting was moved to Thursday "
                      "and who decided it?";
  EXPECT_TRUE(answered(prompt, "La reunión se trasladó al jueves porque la mitad del equipo está de viaje esta semana, "
                               "y lo decidió la directora del proyecto.")
                  .has(OutputFlag::WrongLanguage));
  EXPECT_FALSE(answered(prompt, "The meeting was moved to Thursday because half of the team is travelling this week; "
                                "the project lead decided it.")
                   .has(OutputFlag::WrongLanguage));
  // Japanese asked, Chinese answered (both Han characters in part).
  EXPECT_TRUE(answered("user: 会議がなぜ木曜日に変更されたのか、誰が決めたのか教えてください。",
                       "因为团队一半的人这周出差，所以会议改到了星期四，这是项目负责人决定的。")
                  .has(OutputFlag::WrongLanguage));
}

TEST(LanguageId, ARequestedLanguageOrTranslationIsNotWrong) {
  EXPECT_FALSE(answered("user: Please translate into Spanish: the meeting was moved to Thursday because half of the "
                        "team is travelling this week.",
                        "La reunión se trasladó al jueves porque la mitad del equipo está de viaje esta semana.")
                   .has(OutputFlag::WrongLanguage));
  // A Chinese prompt asking for English: not a script mismatch either.
  const auto r = answered("user: 请把这句话翻译成英文：因为团队一半的人这周出差，会议改到了星期四。",
                          "The meeting was moved to Thursday because half of the team is travelling this week.");
  EXPECT_FALSE(r.has(OutputFlag::WrongLanguage));
  EXPECT_FALSE(r.has(OutputFlag::ScriptMismatch));
  // Too short to identify: no verdict.
  EXPECT_FALSE(answered("user: Can you explain why the meeting was moved to Thursday and who decided it?", "Sí, claro.")
                   .has(OutputFlag::WrongLanguage));
}

TEST(LanguageId, AShortQuestionThatReadsAsTheAnswersLanguageIsNoMismatch) {
  // CLD2 is sure this line is Indonesian; hinted with Spanish it reads as Spanish.
  EXPECT_EQ(identifyLanguage("Dame los pasos para plantar un árbol.").code, "id");
  EXPECT_TRUE(readsAs("Dame los pasos para plantar un árbol.", "es"));
  EXPECT_FALSE(readsAs("How do I make pancakes?", "fr"));
  EXPECT_FALSE(answered("user: Dame los pasos para plantar un árbol.",
                        "1. Elige un lugar con suficiente sol y espacio.\n2. Cava un hoyo el doble de ancho que el "
                        "cepellón.\n3. Rellena con tierra y riega en abundancia.")
                   .has(OutputFlag::WrongLanguage));
  EXPECT_TRUE(answered("user: How do I make pancakes?",
                       "Mélangez 250 g de farine avec deux œufs et un demi-litre de lait, puis faites cuire de fines "
                       "couches de pâte dans une poêle chaude.")
                  .has(OutputFlag::WrongLanguage));
}

TEST(LanguageId, CloseLanguagesAreOne) {
  EXPECT_TRUE(sameLanguage("zh", "zh-Hant"));
  EXPECT_TRUE(sameLanguage("id", "ms"));
  EXPECT_TRUE(sameLanguage("hr", "sr"));
  EXPECT_FALSE(sameLanguage("es", "pt"));
  EXPECT_FALSE(sameLanguage("ja", "zh"));
}

TEST(LanguageId, ALanguageNamedInTheQuestionsOwnLanguageIsARequest) {
  for (const char* prompt : {"Responde en inglés, por favor: ¿cuál es la montaña más alta?",
                             "Écris-moi un haïku en anglais.", "Antworte bitte auf Englisch.",
                             "Ответь по-английски: сколько планет?", "英語で答えてください。", "用英文回答这个问题。",
                             "영어로 대답해 주세요.", "Rispondi in inglese."})
    EXPECT_TRUE(asksForALanguage(prompt)) << prompt;
  for (const char* prompt : {"Why is English spelling so hard?", "¿Qué es el inglés antiguo?", "Tell me about Paris."})
    EXPECT_FALSE(asksForALanguage(prompt)) << prompt;
}
