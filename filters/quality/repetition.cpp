#include "filters/quality/repetition.hpp"

#include "filters/core/fnv_hash.hpp"
#include "filters/quality/list_items.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace infergate::quality {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::uint64_t hashOf(std::string_view s) { return fnv1a64(s); }

std::uint64_t combine(std::uint64_t a, std::uint64_t b) {
  return a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::size_t wordCount(std::string_view line) {
  std::size_t words = 0;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && isSpace(line[i])) ++i;
    if (i < line.size()) ++words;
    while (i < line.size() && !isSpace(line[i])) ++i;
  }
  return words;
}

// A line as compared with others: trimmed, without its list marker (a loop in
// a numbered list numbers every repeat).
std::string_view lineKey(std::string_view line) {
  line = trim(line);
  line.remove_prefix(listMarker(line).size());
  return trim(line);
}

// Duplicate lines, counted only where they repeat in place (see the header).
void lineStats(std::string_view text, RepetitionStats& out) {
  thread_local std::vector<std::string_view> lines;
  thread_local std::vector<std::size_t> lineWords;
  lines.clear();
  lineWords.clear();
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = lineKey(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    lines.push_back(line);
    lineWords.push_back(wordCount(line));
  }
  out.lines = lines.size();
  if (out.lines >= kStructuredMinLines) {
    auto words = lineWords;
    std::nth_element(words.begin(), words.begin() + words.size() / 2, words.end());
    out.structured = words[words.size() / 2] <= kStructuredLineWords;
  }
  std::unordered_set<std::string_view> seen;
  std::unordered_set<std::uint64_t> seenAfter;  // (two lines before, line before, line) triples
  std::size_t duplicates = 0, duplicateChars = 0, chars = 0;
  std::string_view previous, beforePrevious;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto line = lines[k];
    chars += line.size();
    const bool seenBefore = !seen.insert(line).second;
    // A block repeating: the line with the two before it was seen before (a
    // stylesheet's blocks share their properties, not their selectors).
    const bool blockSeen =
        !seenAfter.insert(combine(combine(hashOf(beforePrevious), hashOf(previous)), hashOf(line))).second;
    // A long line seen again anywhere is a loop in prose; in structured text
    // (a poem's or a song's refrain) it is the form.
    const bool longRepeat = !out.structured && lineWords[k] >= kLongLineWords;
    if (line == previous || (seenBefore && (blockSeen || longRepeat))) {
      ++duplicates;
      duplicateChars += line.size();
    }
    beforePrevious = previous;
    previous = line;
  }
  if (out.lines > 0) out.duplicateLineFraction = static_cast<double>(duplicates) / out.lines;
  if (chars > 0) out.duplicateLineCharFraction = static_cast<double>(duplicateChars) / chars;
}

// Occurrences per n-gram hash: open addressing in two flat arrays, reused
// across n and calls (a thread's scorer runs one answer at a time). Why: the
// node-per-entry std::unordered_map was the largest cost of scoring a 1 KB
// answer (a third of it, perf).
class GramCounts {
 public:
  void reset(std::size_t entries) {
    std::size_t capacity = 16;
    while (capacity < 2 * entries) capacity <<= 1;
    mask_ = capacity - 1;
    keys_.assign(capacity, 0);
    counts_.assign(capacity, 0);
  }
  std::uint32_t& operator[](std::uint64_t hash) {
    const std::uint64_t key = hash | 1;  // 0 marks a free slot
    for (std::size_t i = (key * 0x9E3779B97F4A7C15ull) >> 32 & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return counts_[i];
      if (keys_[i] == 0) {
        keys_[i] = key;
        return counts_[i];
      }
    }
  }

 private:
  std::size_t mask_ = 0;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> counts_;
};

double periodicShare(std::string_view text) {
  constexpr std::size_t kMaxPeriod = 96, kMinPeriods = 5, kMinBytes = 60;
  if (text.size() < kMinBytes) return 0;
  // Only for text the word rules cannot read: spaces rarer than one in 16
  // bytes (CJK, or one token repeated without them). Prose skips the 48
  // passes (20 us per KB).
  // Code and data (JSON, CSV) are left to the structure rules: their records
  // share a shape by design.
  std::size_t spaces = 0, syntax = 0;
  for (char c : text) {
    spaces += c == ' ' || c == '\n';
    syntax += c == '{' || c == '}' || c == '[' || c == ']' || c == '"' || c == ',' || c == ';' || c == '=' || c == '<';
  }
  if (spaces * 16 >= text.size() || syntax * 20 >= text.size()) return 0;
  double best = 0;
  for (std::size_t p = 1; p <= kMaxPeriod && p * kMinPeriods <= text.size(); ++p) {
    // A period that does not hold over the first 256 bytes cannot reach 90%
    // overall often enough to be worth the full pass.
    const std::size_t probe = std::min<std::size_t>(256, text.size() - p);
    std::size_t same = 0, differ = 0;
    for (std::size_t i = 0; i < probe && differ * 5 <= probe; ++i) {
      const bool equal = text[i] == text[i + p];
      same += equal;
      differ += !equal;
    }
    if (differ * 5 > probe || same * 10 < probe * 8) continue;
    for (std::size_t i = probe; i + p < text.size(); ++i) same += text[i] == text[i + p];
    best = std::max(best, static_cast<double>(same) / static_cast<double>(text.size() - p));
  }
  return best;
}

// A loop that runs to the end of the answer after a good start (the usual
// shape: the model loops until max_tokens): for each period, how far back
// from the end every byte equals the byte one period before it. Most periods
// fail within a byte or two, so this costs little on any text.
double periodicTailShare(std::string_view text) {
  constexpr std::size_t kMaxPeriod = 96, kMinPeriods = 5, kMinBytes = 60;
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  const std::size_t n = text.size();
  if (n < kMinBytes) return 0;
  std::size_t best = 0;
  for (std::size_t p = 1; p <= kMaxPeriod && p * kMinPeriods <= n; ++p) {
    std::size_t j = 0;
    while (j + p < n && text[n - 1 - j] == text[n - 1 - j - p]) ++j;
    if (j + p >= p * kMinPeriods) best = std::max(best, j + p);
  }
  return static_cast<double>(best) / static_cast<double>(n);
}

}  // namespace

RepetitionStats repetitionStats(std::string_view text, std::size_t maxWords) {
  RepetitionStats out;
  lineStats(text, out);
  out.periodicShare = periodicShare(text.substr(0, 4096));
  out.periodicTailShare = periodicTailShare(text.substr(0, 16 * 1024));

  // The thread's buffers, reused: a scorer thread scores one answer at a time.
  thread_local std::vector<std::uint64_t> hashes;
  thread_local std::vector<std::size_t> lengths;
  thread_local std::vector<std::uint32_t> lineOf;  // the line each word is on
  thread_local std::vector<std::uint64_t> gram;
  thread_local std::vector<std::size_t> gramChars;
  thread_local std::vector<char> covered;
  hashes.clear();
  lengths.clear();
  lineOf.clear();
  std::uint32_t line = 0;
  std::size_t i = 0;
  while (i < text.size() && hashes.size() < maxWords) {
    while (i < text.size() && isSpace(text[i])) line += text[i++] == '\n';
    const std::size_t start = i;
    while (i < text.size() && !isSpace(text[i])) ++i;
    if (i > start) {
      hashes.push_back(hashOf(text.substr(start, i - start)));
      lengths.push_back(i - start);
      lineOf.push_back(line);
    }
  }
  out.words = hashes.size();
  std::size_t totalChars = 0;
  for (auto l : lengths) totalChars += l;
  if (totalChars == 0) return out;

  // In a short answer one phrase said twice (a quote and its variant, a
  // parallel construction) is a large share of the words; a loop says it at
  // least three times.
  const std::uint32_t minRepeats = hashes.size() < kShortAnswerWords ? 3 : 2;
  thread_local GramCounts counts, lineCounts;
  // gram[k] holds the hash of the n words from k, gramChars[k] their
  // characters: each n extends the (n-1)-grams by one word, in place.
  gram.assign(hashes.begin(), hashes.end());
  gramChars.assign(lengths.begin(), lengths.end());
  for (std::size_t n = 2; n <= 10; ++n) {
    if (hashes.size() < n) break;
    const std::size_t grams = hashes.size() - n + 1;
    counts.reset(grams);
    for (std::size_t k = 0; k < grams; ++k) {
      gram[k] = combine(gram[k], hashes[k + n - 1]);
      gramChars[k] += lengths[k + n - 1];
      ++counts[gram[k]];
    }
    if (n <= 4) {
      // The most frequent n-gram, as Gopher computes it: its count times its characters.
      std::size_t best = 0;
      for (std::size_t k = 0; k < grams; ++k) {
        const auto c = counts[gram[k]];
        if (c >= minRepeats) best = std::max(best, c * gramChars[k]);
      }
      out.topNgramCharFraction[n - 2] = std::min(1.0, static_cast<double>(best) / totalChars);
    } else {
      // Mark every word covered by a repeated n-gram; count each word once.
      // For n = 9, 10 also with only the n-grams inside one line (structure).
      const auto coveredFraction = [&](bool withinLines) {
        if (withinLines) lineCounts.reset(grams);
        const auto inLine = [&](std::size_t k) { return lineOf[k] == lineOf[k + n - 1]; };
        if (withinLines)
          for (std::size_t k = 0; k < grams; ++k)
            if (inLine(k)) ++lineCounts[gram[k]];
        covered.assign(hashes.size(), 0);
        for (std::size_t k = 0; k < grams; ++k) {
          const bool repeated =
              withinLines ? inLine(k) && lineCounts[gram[k]] >= minRepeats : counts[gram[k]] >= minRepeats;
          if (repeated)
            for (std::size_t j = 0; j < n; ++j) covered[k + j] = 1;
        }
        std::size_t chars = 0;
        for (std::size_t w = 0; w < covered.size(); ++w)
          if (covered[w]) chars += lengths[w];
        return static_cast<double>(chars) / totalChars;
      };
      out.duplicateNgramCharFraction[n - 5] = coveredFraction(false);
      if (n >= 9 && out.structured) out.lineDuplicateNgramCharFraction[n - 9] = coveredFraction(true);
    }
  }
  return out;
}

double worstRepetitionRatio(const RepetitionStats& s, const RepetitionLimits& limits) {
  double worst = std::max(s.periodicShare / limits.periodicShare, s.periodicTailShare / limits.periodicTailShare);
  if (s.lines >= 4) {  // a short answer repeating a fence or a heading is not a loop
    worst = std::max(worst, s.duplicateLineFraction / limits.duplicateLineFraction);
    worst = std::max(worst, s.duplicateLineCharFraction / limits.duplicateLineCharFraction);
  }
  if (s.words < limits.minWords) return worst;
  if (s.structured) {
    // Lines built on a template repeat its fixed part; only a repeat of whole
    // stretches (ten words) inside lines is a loop.
    for (std::size_t k = 0; k < 2; ++k)
      worst = std::max(worst, s.lineDuplicateNgramCharFraction[k] / limits.duplicateNgramCharFraction[k + 4]);
    return worst;
  }
  for (std::size_t k = 0; k < 3; ++k) worst = std::max(worst, s.topNgramCharFraction[k] / limits.topNgramCharFraction[k]);
  for (std::size_t k = 0; k < 6; ++k)
    worst = std::max(worst, s.duplicateNgramCharFraction[k] / limits.duplicateNgramCharFraction[k]);
  return worst;
}

}  // namespace infergate::quality
