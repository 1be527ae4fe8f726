#pragma once
// The scans of prompt text that RequestFacts needs: code points counted at
// memory speed (AVX2 chosen at run time, SSE2 otherwise), and the start of the
// text sampled for its scripts and non-ASCII share.
#include <cstdint>
#include <string_view>

#include "filters/core/request_facts.hpp"

namespace infergate {

// Counts `text`'s code points into facts.promptChars, samples its scripts;
// returns the count.
std::uint64_t promptText(std::string_view text, RequestFacts& facts);

}  // namespace infergate
