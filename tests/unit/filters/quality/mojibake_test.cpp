#include "filters/quality/mojibake.hpp"

#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"
#include "filters/quality/visible_text.hpp"

using namespace infergate::quality;

namespace {
QualityReport score(std::string_view text) {
  ScorerInput in;
  in.text = text;
  in.finishReason = "stop";
  return scoreOutput(in, ScorerSettings{});
}
}  // namespace

// Each string is UTF-8 that was read with a code page and written as UTF-8 again.
TEST(Mojibake, UndoesEachCodePagesDamage) {
  // Russian read as cp1251.
  const auto russian = mojibakeStats("РџСЂРёРІРµС‚, РєР°Рє РґРµР»Р°? Р’СЃС‘ С…РѕСЂРѕС€Рѕ, СЃРїР°СЃРёР±Рѕ.");
  EXPECT_EQ(russian.sequences, 29u);  // every Cyrillic letter of the original
  EXPECT_TRUE(isMojibake(russian));
  // French with a typographic apostrophe, read as cp1252.
  const auto french = mojibakeStats("Le cafÃ© est trÃ¨s apprÃ©ciÃ© Ã\u00a0 Paris, nâ€™est-ce pas?");
  EXPECT_EQ(french.sequences, 6u);
  EXPECT_TRUE(isMojibake(french));
  // German read as Latin-1 (0x9F kept as a C1 control).
  EXPECT_TRUE(isMojibake(mojibakeStats("StraÃ\u009fe und GrÃ¶Ã\u009fe: schÃ¶n Ã¼bersetzt.")));
  // Japanese read as cp1252, bytes it leaves undefined kept as C1 controls.
  EXPECT_TRUE(isMojibake(mojibakeStats("æ\u009d±äº¬ã\u0081¯æ—¥æœ¬ã\u0081®é¦–éƒ½ã\u0081§ã\u0081™ã€‚")));
  EXPECT_TRUE(score("Le cafÃ© est trÃ¨s apprÃ©ciÃ© Ã\u00a0 Paris, nâ€™est-ce pas?").has(OutputFlag::Mojibake));
}

// Real text in the same scripts is left alone, including the rare accidental
// pair (a Cyrillic capital before "ё" reads as a valid two-byte sequence).
TEST(Mojibake, LeavesCorrectTextAlone) {
  for (std::string_view text : {
           "Привет, как дела? Всё хорошо, спасибо. ЕЁ ЁЖ",
           "Le café est très apprécié à Paris, n’est-ce pas ?",
           "Straße und Größe: schön übersetzt. Ça va. Ñandú. Ærø.",
           "東京は日本の首都です。ソウルは韓国の首都です。",
           "مرحبا بكم في القاهرة",
           "Price: 5 € — “quoted” … ™ ©",
           "plain ASCII only",
       }) {
    EXPECT_FALSE(isMojibake(mojibakeStats(text))) << text;
    EXPECT_FALSE(score(text).has(OutputFlag::Mojibake)) << text;
  }
}

TEST(VisibleText, UnicodeBlanksAreEmptyAndWordlessTextIsUninformative) {
  EXPECT_TRUE(visibleText("\u200b\u200b\u3000\ufeff \n").blank);
  EXPECT_TRUE(score("\u200b\u200b\u3000\ufeff").has(OutputFlag::Empty));
  EXPECT_TRUE(score("\u00a0\u2060\u200d").has(OutputFlag::Empty));
  for (std::string_view wordless : {"…", "...", "🙂", "👍👍", "—", "?!", "\u3000…\u3000"}) {
    const auto r = score(wordless);
    EXPECT_FALSE(r.has(OutputFlag::Empty)) << wordless;
    EXPECT_TRUE(r.has(OutputFlag::Uninformative)) << wordless;
  }
  for (std::string_view words : {"42", "Yes.", "はい", "是", "네", "Да", "نعم", "ok 🙂", "Ｙｅｓ"}) {
    const auto r = score(words);
    EXPECT_FALSE(r.has(OutputFlag::Uninformative)) << words;
    EXPECT_FALSE(r.has(OutputFlag::Empty)) << words;
  }
  // A tool call is the answer: no text needed.
  ScorerInput call;
  call.text = "…";
  call.toolCalls = "get_weather: {\"city\": \"Paris\"}";
  EXPECT_FALSE(scoreOutput(call, ScorerSettings{}).has(OutputFlag::Uninformative));
}
