#pragma once
// One sampled exchange on its way from a worker to the quality pipeline, and
// what the pipeline keeps of it once scored (redacted: the only form that is
// ever written, served or sent to the judge).
#include <cstdint>
#include <optional>
#include <string>

#include "filters/core/captured_output.hpp"
#include "filters/quality/sampling.hpp"
#include "filters/quality/scorers.hpp"
#include "filters/core/errors.hpp"

namespace infergate {

// Built on the worker for a sampled request; moved to the pipeline.
struct OutputSample {
  std::string requestId;
  std::int64_t wallStartMs = 0;
  std::uint32_t route = 0, backend = 0, model = 0;  // label indexes
  std::uint32_t key = 0;                              // the client API key's label index (0 = none)
  quality::SampleReason reason = quality::SampleReason::Rate;
  unsigned status = 0;
  FailureCause cause = FailureCause::None;
  bool stream = false;
  double totalSeconds = 0;
  double firstTokenSeconds = -1;        // streams: time to first token; -1 = none
  std::string requestBody;              // raw: the prompt is extracted (and redacted) off the worker
  std::string responseBody;             // raw JSON body of a non-streaming answer (or error)
  bool responseCut = false;             // the body was longer than the gateway keeps (4 MiB)
  quality::CapturedOutput streamOutput; // a stream's reassembled answer
  bool streamFinished = false;          // saw finish_reason or [DONE]
  std::optional<std::uint64_t> promptTokens, completionTokens, maxTokens;
  bool jsonRequested = false;
  quality::Script promptScript = quality::Script::None;
};

enum class JudgeResult : std::uint8_t { None, Pending, Ok, ParseError, Timeout, Error, CircuitOpen, Dropped };
std::string_view judgeResultName(JudgeResult r);

struct StoredSample {
  std::string requestId;
  std::int64_t wallStartMs = 0;
  std::uint32_t route = 0, backend = 0, model = 0;
  std::uint32_t key = 0;
  quality::SampleReason reason = quality::SampleReason::Rate;
  unsigned status = 0;
  FailureCause cause = FailureCause::None;
  bool stream = false;
  double totalSeconds = 0;
  double firstTokenSeconds = -1;
  std::optional<std::uint64_t> promptTokens, completionTokens, maxTokens;
  std::string prompt;                   // per the prompt policy, redacted
  bool promptHashed = false;            // `prompt` is a hash
  std::string answer;                   // redacted
  std::string toolCalls;                // redacted
  std::string finishReason;
  bool answerCut = false;               // the capture cap cut the answer
  bool abandoned = false;               // the client left before the answer ended
  bool scored = false;                  // answers (2xx) are scored; error replies and abandoned answers only kept
  quality::QualityReport report;
  JudgeResult judge = JudgeResult::None;
  int judgeScore = 0;                   // 1..5 when judge == Ok
  std::optional<bool> humanBad;         // feedback label
};

}  // namespace infergate
