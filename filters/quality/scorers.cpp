#include "filters/quality/scorers.hpp"

#include "filters/quality/language_id.hpp"
#include "filters/quality/list_items.hpp"
#include "filters/quality/visible_text.hpp"

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <vector>

namespace infergate::quality {

namespace {


// SQL clauses start their lines with an upper-case keyword.
bool startsWithSqlKeyword(std::string_view line) {
  static constexpr std::array<std::string_view, 16> kKeywords = {
      "SELECT ", "FROM ", "WHERE ", "ORDER BY ", "GROUP BY ", "LIMIT ", "JOIN ", "LEFT JOIN ", "INNER JOIN ",
      "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "VALUES", "HAVING ", "SET "};
  for (auto k : kKeywords)
    if (line.starts_with(k)) return true;
  return false;
}

// Code or data rather than prose: a fenced block, a JSON document, or most
// lines carrying code punctuation or a "key: value" shape. Its letters say
// nothing of the language the user wrote in (SQL for a Japanese question).
bool looksLikeCode(std::string_view text) {
  if (text.find("```") != std::string_view::npos) return true;
  const auto first = text.find_first_not_of(" \n\r\t");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[' || text[first] == '<')) return true;
  std::size_t lines = 0, codeLines = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) continue;
    line.remove_prefix(start);
    ++lines;
    const auto colon = line.find(": ");
    const bool keyValue = colon != std::string_view::npos && colon < 32 &&
                          line.substr(0, colon).find(' ') == std::string_view::npos;
    const bool key = line.back() == ':' && line.find(' ') == std::string_view::npos;  // "services:"
    if (keyValue || key || line.find_first_of(";{}=<>") != std::string_view::npos || line.starts_with("- ") ||
        startsWithSqlKeyword(line))
      ++codeLines;
  }
  return lines >= 3 && codeLines * 10 >= lines * 6;
}

// A measured value against its limit: 1 at zero, 0.5 at the limit, 0 at twice it.
double gradedScore(double ratio) { return std::clamp(1.0 - ratio / 2.0, 0.0, 1.0); }

}  // namespace

double compressionRatio(std::string_view text) {
  if (text.empty()) return 0;
  // One deflate pass at the default level. deflateInit allocates and clears
  // ~270 KB of state, which would cost more than the compression itself: each
  // thread keeps one stream and resets it.
  struct Deflater {
    z_stream stream{};
    bool ok = deflateInit(&stream, Z_DEFAULT_COMPRESSION) == Z_OK;
    ~Deflater() {
      if (ok) deflateEnd(&stream);
    }
  };
  thread_local Deflater deflater;
  thread_local std::vector<Bytef> out;
  if (!deflater.ok || deflateReset(&deflater.stream) != Z_OK) return 0;
  out.resize(deflateBound(&deflater.stream, static_cast<uLong>(text.size())));
  auto& z = deflater.stream;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out == 0) return 0;
  return static_cast<double>(text.size()) / static_cast<double>(z.total_out);
}

bool isValidJson(std::string_view text) {
  // Models in JSON mode sometimes wrap the object in whitespace; that is valid JSON.
  // A fenced ```json block is not: a client parsing the answer would fail.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  return !parser.parse(padded).get(root);
}

QualityReport scoreOutput(const ScorerInput& in, const ScorerSettings& settings) {
  QualityReport r;
  r.scores.fill(1.0);
  auto raise = [&r](OutputFlag f, double score) {
    r.scores[static_cast<std::size_t>(f)] = std::min(score, 0.5);
    r.flags |= flagBit(f);
  };
  auto grade = [&r, &raise](OutputFlag f, double ratio) {
    if (ratio > 1.0) raise(f, gradedScore(ratio));
    else r.scores[static_cast<std::size_t>(f)] = gradedScore(ratio);
  };

  const auto visible = visibleText(in.text);
  const bool empty = visible.blank && visibleText(in.toolCalls).blank;
  if (empty) raise(OutputFlag::Empty, 0);
  // Text a reader sees but no word in it, and no tool call to carry the answer.
  // Not when the user asked for an emoji or a symbol, or showed some.
  if (!visible.blank && !visible.hasWords && visibleText(in.toolCalls).blank && !in.promptRequests.symbols)
    raise(OutputFlag::Uninformative, 0.2);
  if (!visible.blank) {
    r.mojibake = mojibakeStats(in.text);
    if (isMojibake(r.mojibake)) raise(OutputFlag::Mojibake, 0.2);
  }

  if (in.finishReason == "length" || (in.streamed && !in.streamFinished && in.finishReason.empty()))
    raise(OutputFlag::Truncated, 0.25);
  if (in.finishReason == "content_filter") raise(OutputFlag::ContentFiltered, 0);

  if (!in.text.empty()) {
    if (isRefusal(in.text, settings.refusalPhrases, settings.refusalWindowBytes)) raise(OutputFlag::Refusal, 0.1);

    // Text the user asked to have repeated repeats by request.
    const bool repeatAsked = in.promptRequests.repetition;
    const auto repetition = repetitionStats(in.text);
    r.repetitionRatio = worstRepetitionRatio(repetition, settings.repetition);
    if (!repeatAsked) grade(OutputFlag::Repetition, r.repetitionRatio);

    if (!repeatAsked && in.text.size() >= settings.minCompressionBytes) {
      r.compressionRatio = compressionRatio(in.text);
      grade(OutputFlag::Compressible, r.compressionRatio / settings.maxCompressionRatio);
    }

    const auto stats = textStats(in.text);
    r.garbledChars = stats.garbled();
    r.answerScript = stats.dominant();
    if (stats.codePoints > 0) {
      const double fraction = static_cast<double>(stats.garbled()) / stats.codePoints;
      const double ratio = std::max(fraction / settings.maxGarbledFraction,
                                    static_cast<double>(stats.garbled()) / (settings.maxGarbledCount + 0.5));
      grade(OutputFlag::Garbled, ratio);
    }

    const bool code = looksLikeCode(in.text);
    // Code and data are left out: the commas of a record are not a list.
    if (!code && overrunsCount(enumeratedItems(in.text), in.promptRequests.itemCount))
      raise(OutputFlag::CountOverrun, 0.3);
    if (!code && !in.promptAsksForLanguage && in.promptScript != Script::None && in.promptScript != Script::Other &&
        !in.captureCut &&
        stats.letters() >= settings.minScriptLetters && r.answerScript != in.promptScript &&
        stats.share(in.promptScript) < settings.minPromptScriptShare)
      raise(OutputFlag::ScriptMismatch, 0.3);

    // Same script, another language: only when CLD2 is sure of both sides,
    // the prompt asked for no particular language, and the question does not
    // read as the answer's language too (a short question can be either).
    // Not asked of CJK questions: hinted, CLD2 reads any Han-only line as
    // Japanese, and kana already tell Japanese apart. Nor when the question's
    // language rests on its names (languageRestsOnNames).
    if (!code && !in.promptLanguage.empty() && !in.promptAsksForLanguage && !in.captureCut &&
        in.text.size() >= settings.minLanguageBytes) {
      const auto answer = identifyLanguage(in.text);
      if (answer.reliable) {
        r.answerLanguage = answer.code;
        if (!sameLanguage(answer.code, in.promptLanguage) && !r.has(OutputFlag::ScriptMismatch) &&
            !(in.promptScript != Script::Cjk && readsAs(in.promptMessage, answer.code)) &&
            !languageRestsOnNames(in.promptMessage, in.promptLanguage))
          raise(OutputFlag::WrongLanguage, 0.3);
      }
    }
  }

  // A cut capture is not JSON, but the client got all of it: do not blame the model.
  if (in.jsonRequested && !empty && !in.captureCut && !isValidJson(in.text)) raise(OutputFlag::InvalidJson, 0);

  if (in.maxTokens && in.completionTokens && *in.maxTokens > 0) {
    const double used = static_cast<double>(*in.completionTokens) / static_cast<double>(*in.maxTokens);
    if (used >= 1.0) raise(OutputFlag::Length, 0.4);
  }

  r.score = *std::min_element(r.scores.begin(), r.scores.end());
  return r;
}

}  // namespace infergate::quality
