#pragma once
// The model patterns routes list (`models:`): exact names or '*' globs. Shared
// by the router (which route a request takes) and the label space (which
// model labels a route can produce, exported at zero from the start).
#include <string_view>

namespace infergate {

// '*' matches any run of characters (including none); everything else is literal.
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace infergate
