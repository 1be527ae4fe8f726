#pragma once
// Refusal detection: the model declining (refusal.cpp says what counts).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace infergate::quality {

// The refusal phrases, folded (foldForMatch), indexed by their first two
// bytes: one pass over a stretch of answer finds every phrase in it, where a
// search per phrase read the stretch 230 times.
class RefusalPhrases {
 public:
  RefusalPhrases() = default;
  // Implicit: a list of folded phrases is a phrase set. Phrases shorter than
  // two bytes are dropped (a one-letter "phrase" would match everywhere).
  RefusalPhrases(std::vector<std::string> folded);  // NOLINT(google-explicit-constructor)

  const std::vector<std::string>& phrases() const { return phrases_; }

  // Whether the built-in decline grammar (decline_grammar.hpp) is searched
  // too: yes for the default sets, however configured per language; no when
  // the configuration replaces every language's phrases with one list.
  bool grammar() const { return grammar_; }
  RefusalPhrases& withoutGrammar() {
    grammar_ = false;
    return *this;
  }

  // Calls found(at, length) for each phrase starting at a position in
  // [from, to) of `text`, in order, until it returns true; returns whether it did.
  template <class Found>
  bool anyAt(std::string_view text, std::size_t from, std::size_t to, Found&& found) const {
    for (std::size_t at = from; at < to && at + 1 < text.size(); ++at) {
      const auto bucket = bucketOf(text[at], text[at + 1]);
      for (auto k = offsets_[bucket]; k < offsets_[bucket + 1]; ++k) {
        const auto& phrase = phrases_[order_[k]];
        if (text.compare(at, phrase.size(), phrase) == 0 && found(at, phrase.size())) return true;
      }
    }
    return false;
  }

 private:
  static constexpr std::size_t kBuckets = 1024;
  static std::size_t bucketOf(char a, char b) {
    return (static_cast<unsigned char>(a) * 131u + static_cast<unsigned char>(b)) & (kBuckets - 1);
  }
  std::vector<std::string> phrases_;
  bool grammar_ = true;
  std::vector<std::uint32_t> order_;                // phrase indices, by bucket
  std::array<std::uint32_t, kBuckets + 1> offsets_{};  // each bucket's range in order_
};

// Lower case in Latin, Latin-1, Latin Extended-A, Cyrillic and Greek; ’ as ';
// full-width, ideographic and Arabic commas as ','; no-break spaces as ' ';
// Arabic diacritics dropped.
std::string foldForMatch(std::string_view text);

bool isRefusal(std::string_view text, const RefusalPhrases& phrases, std::size_t windowBytes);

}  // namespace infergate::quality
