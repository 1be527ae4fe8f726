#pragma once
// Heuristic quality scorers: pure functions of what the gateway saw of one
// exchange (the answer text, how it ended, usage, what the request asked for).
// Each gives a score in [0, 1] (1 = nothing wrong; a flagged output scores at
// most 0.5) and whether it raises its flag. The overall score is the lowest.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/quality/mojibake.hpp"
#include "filters/quality/output_flags.hpp"
#include "filters/quality/prompt_reading.hpp"
#include "filters/quality/refusal.hpp"
#include "filters/quality/repetition.hpp"
#include "filters/quality/text_stats.hpp"

namespace infergate::quality {

struct ScorerInput {
  std::string_view text;           // the answer: message content / delta.content, concatenated
  std::string_view toolCalls;      // tool call names and arguments, concatenated
  std::string_view finishReason;   // empty when none was seen
  bool streamed = false;
  bool streamFinished = true;      // a stream saw finish_reason or [DONE]
  bool captureCut = false;         // the capture cap cut the answer (not the model)
  bool jsonRequested = false;      // response_format json_object or json_schema
  Script promptScript = Script::None;
  // The user's last message's language (CLD2 code, when it was reliable), and
  // whether the prompt asks for a language (a translation): then any is fine.
  std::string_view promptLanguage;
  bool promptAsksForLanguage = false;
  // The user's last message (for a second look at its language) and what it
  // asks of the answer's form (readPromptRequests). All four are set by PromptReading::applyTo.
  std::string_view promptMessage;
  PromptRequests promptRequests;
  std::optional<std::uint64_t> maxTokens;
  std::optional<std::uint64_t> completionTokens;
};

struct ScorerSettings {
  RefusalPhrases refusalPhrases = defaultRefusalPhrases();
  std::size_t refusalWindowBytes = 300;  // phrases count only this near the start
  double maxCompressionRatio = 4.0;      // deflate ratio above this is looping text
  std::size_t minCompressionBytes = 256; // shorter answers compress too poorly to tell
  double maxGarbledFraction = 0.01;      // broken characters per code point
  std::size_t maxGarbledCount = 2;       // ... or more than this many at all
  std::uint32_t minScriptLetters = 20;   // both sides need this many letters to compare scripts
  double minPromptScriptShare = 0.1;     // the answer must have this share of the prompt's script
  std::size_t minLanguageBytes = 60;     // shorter answers are not language-identified
  RepetitionLimits repetition;

  // Folded, every language's defaults together.
  static std::vector<std::string> defaultRefusalPhrases();
  // As written, by language (en, zh, zh-hant, ja, ko, ru, es, pt, de, fr, ar, it, nl, tr, pl):
  // config may replace one language's set (sampling.scorers.refusal_phrases).
  static std::vector<std::pair<std::string, std::vector<std::string>>> defaultRefusalPhrasesByLanguage();
};

struct QualityReport {
  double score = 1;                   // lowest scorer score
  std::uint32_t flags = 0;            // bit per OutputFlag
  std::array<double, kFlagCount> scores{};
  // Measurements behind the scores, for the sink and /admin/samples.
  double compressionRatio = 0;        // 0 when not measured
  double repetitionRatio = 0;         // worst Gopher statistic over its limit
  Script answerScript = Script::None;
  std::size_t garbledChars = 0;
  std::string answerLanguage;         // CLD2's reliable guess, when one was made
  MojibakeStats mojibake;

  bool has(OutputFlag f) const { return (flags & flagBit(f)) != 0; }
};

// Individual scorers (exposed for tests and the benchmark).

double compressionRatio(std::string_view text);  // raw bytes / deflated bytes
bool isValidJson(std::string_view text);

QualityReport scoreOutput(const ScorerInput& input, const ScorerSettings& settings);

}  // namespace infergate::quality
