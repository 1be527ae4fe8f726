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
  for (std::string_view wordless : {"…", "...", "🙂", "👍👍", "—", "?!", "\u3000…\u3000", "¯\\_(ツ)_/¯"}) {
    const auto r = score(wordless);
    EXPECT_FALSE(r.has(OutputFlag::Empty)) << wordless;
    EXPECT_TRUE(r.has(OutputFlag::Uninformative)) << wordless;
  }
  for (std::string_view words : {"42", "Yes.", "はい", "是", "네", "Да", "نعم", "ok 🙂", "Ｙｅｓ", "B", "5.", "(c)"}) {
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

// UTF-8 read as GBK: CJK turned into other CJK (Python's
// text.encode("utf-8").decode("gbk"), the bytes GBK could not read dropped).
TEST(Mojibake, UndoesUtf8ReadAsGbk) {
  const auto chinese = mojibakeStats(
      "鏁呭浣嶄簬鍖椾含涓杞寸嚎鐨勪腑蹇冿紝鏄鏄庢竻涓や唬鐨勭殗瀹跺娈匡紝鐜板湪鏄鏁呭鍗氱墿闄銆");  // 故宫位于北京…
  EXPECT_TRUE(chinese.gbk);
  EXPECT_GE(chinese.sequences, 20u);
  EXPECT_TRUE(isMojibake(chinese));
  const auto japanese =
      mojibakeStats("鏃ユ湰銇棣栭兘銇鏉变含銇с仚銆備汉鍙ｃ伅绱勫崈鍥涚櫨涓囦汉銇с佹斂娌汇仺绲屾笀銇涓蹇冨湴銇с仚銆");  // 日本の首都は…
  EXPECT_TRUE(isMojibake(japanese));
  EXPECT_TRUE(score("浣犲ソ锛屼笘鐣屻€備粖澶╁ぉ姘斿緢濂姐€").has(OutputFlag::Mojibake));  // 你好，世界。今天天气很好。
}

TEST(Mojibake, RealChineseJapaneseAndKoreanAreNotGbkDamage) {
  for (const char* text : {
           "故宫位于北京中轴线的中心，是明清两代的皇家宫殿，现在是故宫博物院，收藏了大量珍贵文物。",
           "龘靐齉齾爩鱻麤龗灪龖厵滟爨癵驫麣纞虋讟钃鸜麷鞻韽顟顠饙饙騳騱饐",  // rare characters, many of them
           "繁體中文的文章：臺灣的夜市文化非常有名，士林夜市和饒河街夜市都吸引了許多觀光客。",
           "日本の首都は東京です。人口は約千四百万人で、政治と経済の中心地です。",
           "서울은 대한민국의 수도이며, 한강을 중심으로 발전한 도시입니다.",
       }) {
    const auto stats = mojibakeStats(text);
    EXPECT_FALSE(isMojibake(stats)) << text << " (" << stats.sequences << " sequences, share " << stats.share() << ")";
  }
}

TEST(Mojibake, OneDamagedLatinLetterCanBeEnough) {
  // "É" read as cp1252 ("Ã‰"), the answer's only accented letter.
  EXPECT_TRUE(isMojibake(mojibakeStats("O Cristo Redentor fica no Rio de Janeiro. Ã‰ uma das sete maravilhas.")));
  // German quotes after ß form one sequence by accident (ß + “): not damage.
  EXPECT_FALSE(isMojibake(mojibakeStats("Der „Fuß“ ist eine alte Längeneinheit.")));
  EXPECT_FALSE(isMojibake(mojibakeStats("Er sagte „Fuß“.")));
}
