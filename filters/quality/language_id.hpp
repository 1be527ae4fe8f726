#pragma once
// Which language a text is in (CLD2, Debian's libcld2), for answers given in
// another language than the question within the same script (English asked,
// Spanish answered; Japanese asked, Chinese answered), which a script
// comparison cannot see.
//
// CLD2 abstains (reliable = false) on short or mixed texts: the wrong-language
// rule then says nothing. Cost and accuracy on short texts: docs/quality.md.
#include <string>
#include <string_view>

namespace infergate::quality {

struct LanguageGuess {
  std::string code;       // ISO 639-1 where CLD2 has one ("en", "zh", "zh-Hant", "ja"); empty when unknown
  bool reliable = false;  // CLD2's own verdict: enough text, one clear winner
  int percent = 0;        // share of the text in that language
};

// Reads at most 512 bytes (enough to decide; the cost stays bounded). A hint
// (a language's CLD2 code) tips a text that could be either its way.
LanguageGuess identifyLanguage(std::string_view text, std::string_view hint = {});

// Whether two CLD2 codes are one language for the wrong-language rule:
// simplified and traditional Chinese, Indonesian and Malay, Bosnian, Croatian
// and Serbian, the Norwegian standards.
bool sameLanguage(std::string_view a, std::string_view b);

// Whether a short text (a one-line question) may well be in `language`: CLD2,
// hinted with it, reads the text as it. CLD2 is sure of one language on a few
// words and sometimes wrong ("Dame los pasos para plantar un árbol." reads as
// Indonesian); an answer in a language the question could be in is no
// mismatch.
bool readsAs(std::string_view text, std::string_view language);

// The last user message of a prompt as extractPrompt writes it ("role: text"
// per message), or the whole prompt when it has no roles.
std::string_view lastUserMessage(std::string_view prompt);

// Whether a prompt asks for an answer in a given or other language (a
// translation, "answer in English"): then a different language is expected.
bool asksForALanguage(std::string_view prompt);


}  // namespace infergate::quality
