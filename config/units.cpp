#include "config/units.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace infergate::config {
namespace {

// Splits "123unit" into its number and unit; the number must be a non-negative integer.
bool splitNumber(std::string_view text, std::uint64_t& number, std::string_view& unit) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc{} || ptr == begin) return false;
  unit = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  return true;
}

bool multiply(std::uint64_t value, std::uint64_t factor, std::uint64_t& out) {
  if (value != 0 && factor > std::numeric_limits<std::uint64_t>::max() / value) return false;
  out = value * factor;
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::uint64_t number = 0;
  std::string_view unit;
  if (!splitNumber(text, number, unit)) return std::nullopt;
  std::uint64_t factor = 0;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else return std::nullopt;  // a bare number is ambiguous: require a unit
  std::uint64_t ms = 0;
  if (!multiply(number, factor, ms) || ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::optional<std::size_t> parseSize(std::string_view text) {
  std::uint64_t number = 0;
  std::string_view unit;
  if (!splitNumber(text, number, unit)) return std::nullopt;
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "KiB") factor = 1024;
  else if (unit == "MiB") factor = 1024 * 1024;
  else if (unit == "GiB") factor = 1024ull * 1024 * 1024;
  else if (unit == "KB") factor = 1000;
  else if (unit == "MB") factor = 1000 * 1000;
  else if (unit == "GB") factor = 1000ull * 1000 * 1000;
  else return std::nullopt;
  std::uint64_t bytes = 0;
  if (!multiply(number, factor, bytes) || bytes > std::numeric_limits<std::size_t>::max()) return std::nullopt;
  return static_cast<std::size_t>(bytes);
}

}  // namespace infergate::config
