#pragma once
// Human-friendly units in config files: durations ("250ms", "30s", "5m", "1h")
// and sizes ("512", "16KiB", "8MiB", "1GiB", "10KB").
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

namespace infergate::config {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
std::optional<std::size_t> parseSize(std::string_view text);

}  // namespace infergate::config
