// Answer text through redaction and the output scorers. Properties: a key and
// a configured pattern placed anywhere in the text never survive redaction;
// scores stay within 0..1; nothing crashes or backtracks.
#include <cstdint>
#include <string>

#include "filters/quality/list_items.hpp"
#include "filters/quality/prompt_reading.hpp"
#include "filters/quality/redaction.hpp"
#include "filters/quality/scorers.hpp"
#include "filters/quality/visible_text.hpp"
#include "fuzz_check.hpp"

using namespace infergate;
using namespace infergate::quality;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const Redactor redactor({"ticket-[0-9]+", "(\\w+\\s?)+@corp"});
  static const ScorerSettings settings;
  std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::string key = "sk-proj-FUZZCANARY0123456789abcdef";
  const std::string ticket = "ticket-424242";
  const bool textHasCanaries = text.find("FUZZCANARY") != std::string::npos || text.find("424242") != std::string::npos;
  // Planted at two places of the original text, the later first, so that
  // neither lands inside the other.
  std::string planted = text;
  const std::size_t keyAt = std::min<std::size_t>(data[0], text.size());
  const std::size_t ticketAt = std::min<std::size_t>(data[1], text.size());
  const auto plantKey = [&] { planted.insert(keyAt, " " + key + " "); };
  const auto plantTicket = [&] { planted.insert(ticketAt, "\n" + ticket + "\n"); };
  if (keyAt >= ticketAt) plantKey(), plantTicket();
  else plantTicket(), plantKey();
  const auto out = redactor.redact(planted);
  if (!textHasCanaries) {
    FUZZ_CHECK(out.find("FUZZCANARY") == std::string::npos, "a key survived redaction");
    FUZZ_CHECK(out.find("424242") == std::string::npos, "a configured pattern survived redaction");
  }
  (void)redactor.redact(text);

  ScorerInput input;
  input.text = text;
  input.finishReason = data[0] % 2 ? "stop" : "length";
  input.jsonRequested = data[1] % 2;
  input.streamed = data[1] % 3 == 0;
  input.maxTokens = data[0];
  input.completionTokens = data[1];
  // Language identification (CLD2) sees the raw bytes too: any, valid or not.
  input.promptLanguage = data[0] % 3 == 0 ? "en" : data[0] % 3 == 1 ? "ja" : "";
  // The same bytes as a prompt: counts, requests, the hinted second look.
  const auto reading = readPrompt(text);
  FUZZ_CHECK(reading.requests.itemCount <= 30, "an asked count of %u", reading.requests.itemCount);
  input.promptMessage = reading.message;
  input.promptRequests.itemCount = data[1] % 8;
  input.promptScript = data[1] % 5 == 0 ? Script::Cjk : Script::Latin;
  (void)enumeratedItems(text);
  const auto report = scoreOutput(input, settings);
  (void)mojibakeStats(text);
  (void)visibleText(text);
  FUZZ_CHECK(report.score >= 0 && report.score <= 1, "score %f out of range", report.score);
  for (double s : report.scores) FUZZ_CHECK(s >= 0 && s <= 1, "a scorer's score %f is out of range", s);
  return 0;
}
