#pragma once
// What the user's last message asks of the answer's form, so that an answer
// doing what was asked is not flagged for it (a line said five times on
// request is not a loop; a thumbs-up asked for is not an empty answer), and so
// that an answer going far past a count that was asked for can be seen.
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate::quality {

struct PromptRequests {
  bool repetition = false;     // "five times", "repeat", "veces", "mal", "遍", "回"...
  bool symbols = false;        // asks for an emoji or a symbol, or shows symbols itself
  std::uint32_t itemCount = 0; // "name three", "the first ten", "count to five", "前五个": 0 when none
};

// Reads the last user message of a prompt as extractPrompt writes it.
PromptRequests readPromptRequests(std::string_view prompt);

struct ScorerInput;

// What the scorers are told of a prompt: its last user message, that
// message's language when CLD2 is sure of it, whether it asks for a language
// (a translation), and what it asks of the answer's form. One reading for the
// quality pipeline, its tests and its benchmarks.
struct PromptReading {
  std::string_view message;  // into the prompt read
  std::string language;      // CLD2 code; empty when unknown
  bool asksForLanguage = false;
  PromptRequests requests;

  // Points `in`'s prompt fields at this reading (which must outlive `in`).
  void applyTo(ScorerInput& in) const;
};
PromptReading readPrompt(std::string_view prompt);

// Whether a question's `language` rests on its names: read again without the
// capitalised words inside sentences, it is another language ("¿Cómo instalo
// Python en Windows?" reads as English). Asked only when an answer seems to
// be in another language: it costs a second identification.
bool languageRestsOnNames(std::string_view message, std::string_view language);

}  // namespace infergate::quality
