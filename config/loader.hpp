#pragma once
// Loads and validates a YAML config file into a typed Config. Every problem is
// reported as "file:line:column: message"; a config with any error is rejected
// whole, so a bad file never starts a half-working gateway.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/env_interpolation.hpp"

namespace infergate::config {

struct LoadResult {
  Config config;
  std::vector<std::string> errors;    // empty on success
  std::vector<std::string> warnings;  // allowed, but said at start and by --check (insecure TLS)
  bool ok() const { return errors.empty(); }
};

LoadResult loadFile(const std::string& path, const EnvLookup& env = processEnvironment());
// For tests and --check of inline text; `source` names the text in error messages.
LoadResult loadString(const std::string& yaml, const std::string& source,
                      const EnvLookup& env = processEnvironment());

// "host:port", "[v6]:port"; port must be 0..65535 (0 = ephemeral, listeners only).
bool parseAddress(const std::string& text, Address& out, std::string& error);

}  // namespace infergate::config
