#pragma once
// The filters of the product, in request order: the one place where a filter
// joins the request path.
#include <vector>

#include "filters/filter_set.hpp"

namespace infergate {

std::vector<FilterRegistration> builtinFilters();

}  // namespace infergate
