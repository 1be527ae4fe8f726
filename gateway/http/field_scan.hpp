#pragma once
// Lookups of one field in a parsed head, by a scan of its fields in arrival
// order. Beast's own lookups by field (find, count, operator[]) spell the name
// out and walk a tree comparing text case-insensitively: about 250
// instructions each (callgrind, small chat request), several per request. A
// head holds a handful of fields (the parsers cap its size), and a scan
// comparing the enum Beast parsed costs a few instructions a field.
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <cstddef>
#include <string_view>

namespace infergate::headers {

// The first value of a known field, or empty.
template <class Fields>
std::string_view valueOf(const Fields& fields, boost::beast::http::field name) {
  for (const auto& f : fields)
    if (f.name() == name) return f.value();
  return {};
}

// The first value of a field Beast has no enum for (x-request-id, for one):
// only fields it did not recognise are compared as text.
template <class Fields>
std::string_view valueOfUnknown(const Fields& fields, std::string_view name) {
  for (const auto& f : fields)
    if (f.name() == boost::beast::http::field::unknown && boost::beast::iequals(f.name_string(), name))
      return f.value();
  return {};
}

}  // namespace infergate::headers
