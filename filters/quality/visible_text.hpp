#pragma once
// What a reader sees of an answer. An answer of zero-width spaces, ideographic
// spaces or byte-order marks is empty to a reader though it is not empty to
// an ASCII whitespace check; one of only an ellipsis or an emoji carries no
// words. Both are judged on code points, with Unicode's whitespace and format
// characters as blank.
#include <string_view>

namespace infergate::quality {

struct VisibleText {
  bool blank = true;       // nothing but whitespace and format characters
  bool hasWords = false;   // two letters or digits (any script), or one with little else around it
};

VisibleText visibleText(std::string_view text);

}  // namespace infergate::quality
