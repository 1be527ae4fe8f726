#include "filters/quality/prompt_reading.hpp"

#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

TEST(PromptReading, CountsAskedForInEachLanguage) {
  const std::pair<const char*, std::uint32_t> cases[] = {
      {"user: List the first ten primes.", 10},
      {"user: Name three primary colours.", 3},
      {"user: Count to five.", 5},
      {"user: Give me 7 ideas for a party.", 7},
      {"user: Cuenta hasta tres.", 3},
      {"user: Nenne die ersten drei Monate des Jahres.", 3},
      {"user: Donne-moi cinq conseils.", 5},
      {"user: Назови пять рек.", 5},
      {"user: 列出前五个质数。", 5},
      {"user: 日本の有名な山を3つ教えてください。", 3},
      {"user: 한국 음식 다섯 가지를 추천해 주세요.", 5},
      {"user: 5가지 방법을 알려 주세요.", 5},
  };
  for (const auto& [prompt, count] : cases) EXPECT_EQ(readPromptRequests(prompt).itemCount, count) << prompt;
}

TEST(PromptReading, NumbersThatAreNotCountsAreNotCounts) {
  for (const char* prompt : {"user: Explain the 2008 financial crisis.", "user: Is Python 3.5 still supported?",
                             "user: Which one is better, tea or coffee?", "user: What does mp3 stand for?",
                             "user: Convert 2,000 dollars to euros.", "user: Why is the sky blue?"})
    EXPECT_EQ(readPromptRequests(prompt).itemCount, 0u) << prompt;
  // Only the last user message counts.
  EXPECT_EQ(readPromptRequests("user: Name three rivers.\nassistant: Nile, Amazon, Yangtze.\nuser: Thanks, and why?")
                .itemCount,
            0u);
}

TEST(PromptReading, RequestedRepetitionAndSymbols) {
  EXPECT_TRUE(readPromptRequests("user: Write 'I will not talk in class' five times.").repetition);
  EXPECT_TRUE(readPromptRequests("user: Repita 'bom dia' três vezes.").repetition);
  EXPECT_TRUE(readPromptRequests("user: 把这句话重复三遍。").repetition);
  EXPECT_FALSE(readPromptRequests("user: Tell me about Paris.").repetition);
  EXPECT_TRUE(readPromptRequests("user: Reply with only a thumbs-up emoji.").symbols);
  EXPECT_TRUE(readPromptRequests("user: What comes next: ★☆★☆★?").symbols);
  EXPECT_FALSE(readPromptRequests("user: Explain the causes of the First World War.").symbols);
}

TEST(PromptReading, AHanOnlyQuestionIsChinese) {
  // CLD2 calls this line Japanese; it has no kana, so it is Chinese.
  EXPECT_EQ(readPrompt("user: 富士山有多高？").language, "zh");
  EXPECT_EQ(readPrompt("user: 日本の首都はどこですか？").language, "ja");
}

TEST(PromptReading, AppliesEveryPromptFieldToTheScorerInput) {
  const std::string prompt = "system: be brief\nuser: Name three primary colours.";
  const auto reading = readPrompt(prompt);
  ScorerInput in;
  reading.applyTo(in);
  EXPECT_EQ(in.promptMessage, "Name three primary colours.");
  EXPECT_EQ(in.promptLanguage, "en");
  EXPECT_FALSE(in.promptAsksForLanguage);
  EXPECT_EQ(in.promptRequests.itemCount, 3u);
}

TEST(PromptReading, AQuestionWhoseLanguageRestsOnItsNamesIsNoMismatch) {
  // CLD2 reads this as English because of "Python" and "Windows".
  EXPECT_EQ(readPrompt("user: ¿Cómo instalo Python en Windows?").language, "en");
  EXPECT_TRUE(languageRestsOnNames("¿Cómo instalo Python en Windows?", "en"));
  EXPECT_FALSE(languageRestsOnNames("Was ist die Hauptstadt von Australien?", "de"));
  EXPECT_FALSE(languageRestsOnNames("How long is the train from Paris to Berlin?", "en"));
  // So a Spanish answer to it is not in the wrong language.
  const std::string prompt = "user: ¿Cómo instalo Python en Windows?";
  const auto reading = readPrompt(prompt);
  ScorerInput in;
  in.text = "Descarga el instalador desde python.org, ejecútalo y marca la casilla «Add Python to PATH» antes de "
            "pulsar «Install Now». Al terminar, abre una terminal y escribe python --version para comprobarlo.";
  in.finishReason = "stop";
  in.promptScript = Script::Latin;
  reading.applyTo(in);
  EXPECT_FALSE(scoreOutput(in, ScorerSettings{}).has(OutputFlag::WrongLanguage));
}
