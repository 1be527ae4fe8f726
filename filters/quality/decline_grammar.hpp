#pragma once
// Declines by their grammatical shape, beyond the fixed phrases: a speaker
// (said or implied) + a negated ability or willingness + what is declined
// ("I'd rather not answer", "Das kann ich nicht beantworten", "这个我不能告诉你",
// "그 질문에는 답할 수 없어요"), in the fifteen default languages. A phrase list
// cannot hold every wording; on answers written after the lists were made, it
// missed a third of the declines.
//
// One RE2 alternation over the folded text (foldForMatch): linear in the
// stretch searched, whatever the number of patterns.
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace re2 {
class RE2;
}

namespace infergate::quality {

class DeclineGrammar {
 public:
  // The built-in grammar, compiled once.
  static const DeclineGrammar& builtIn();

  // Calls found(at, length) for each decline starting in [from, to) of the
  // folded `text`, in order, until it returns true; returns whether it did.
  bool anyAt(std::string_view text, std::size_t from, std::size_t to,
             const std::function<bool(std::size_t, std::size_t)>& found) const;

  DeclineGrammar();
  ~DeclineGrammar();

 private:
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace infergate::quality
