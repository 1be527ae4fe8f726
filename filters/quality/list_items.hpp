#pragma once
// How many items an answer enumerates, for answers that count on past what was
// asked ("the first ten primes" answered with thirty; "count to five" to forty):
// a loop that varies every item, which no repetition rule can see.
#include <cstddef>
#include <string_view>

namespace infergate::quality {

// The list lines ("1. ", "2) ", "- ", "* ", "• ", "・") or the longest run of
// short comma-separated items ("2, 3, 5, 7", "2、3、5"), whichever is more.
std::size_t enumeratedItems(std::string_view answer);

// Whether an answer enumerating `items` went far past the `asked` count: more
// than twice it and five more. Lists that give a little extra are not loops.
inline bool overrunsCount(std::size_t items, std::size_t asked) { return asked >= 2 && items >= 2 * asked + 5; }

// A list line's marker ("12. ", "3) ", "- ", "* ", "• ", "・"), empty when the
// line has none. Lines that differ only in their markers are the same line.
std::string_view listMarker(std::string_view line);

}  // namespace infergate::quality
