#pragma once
// The fixed set of things a scorer can say is wrong with an answer. The names
// are metric label values (infergate_output_flags_total{flag}), so the set is
// closed: clients cannot add to it.
#include <array>
#include <cstdint>
#include <string_view>

namespace infergate::quality {

enum class OutputFlag : std::uint8_t {
  Empty,            // no text and no tool call (Unicode whitespace and format characters are no text)
  Truncated,        // finish_reason "length", or a stream that never finished
  ContentFiltered,  // finish_reason "content_filter"
  Refusal,          // a refusal phrase near the start
  Repetition,       // Gopher repetition rules (duplicate lines, repeated n-grams)
  Compressible,     // deflate ratio above the limit: looping text
  InvalidJson,      // JSON mode or a JSON schema was requested and the answer is not JSON
  Garbled,          // U+FFFD, control characters or invalid UTF-8
  ScriptMismatch,   // answered in another script than the prompt's
  Length,           // completion tokens reached max_tokens
  Mojibake,         // UTF-8 decoded with a single-byte code page and re-encoded
  Uninformative,    // visible text with no word in it: an ellipsis, an emoji
  WrongLanguage,    // answered in another language than asked (language identification)
  CountOverrun,     // lists far more items than the prompt asked for (counting on past the facts)
  Count,
};

inline constexpr std::size_t kFlagCount = static_cast<std::size_t>(OutputFlag::Count);

inline constexpr std::array<std::string_view, kFlagCount> kFlagNames = {
    "empty",   "truncated", "content_filtered", "refusal",         "repetition",
    "compressible", "invalid_json", "garbled", "script_mismatch", "length", "mojibake", "uninformative", "wrong_language",
    "count_overrun"};

inline std::string_view flagName(OutputFlag f) { return kFlagNames[static_cast<std::size_t>(f)]; }
inline constexpr std::uint32_t flagBit(OutputFlag f) { return 1u << static_cast<unsigned>(f); }

}  // namespace infergate::quality
