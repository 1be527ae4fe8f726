#pragma once
// Reads a model server's load out of its Prometheus text exposition: the
// few series a signals preset (or a custom config) names, summed over their
// labels (running, waiting: a server with data-parallel ranks exports one
// series per rank) or the largest of them (KV-cache use). Comments, other
// metrics and malformed lines are skipped; the body is read once, in place.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace infergate {

struct SignalNames {
  // Each signal's metric names, the first one the body has winning (vLLM
  // renamed its KV-cache gauge; both are looked for).
  std::vector<std::string> running, waiting, kvCacheUsage;
};

// The names of `config`'s preset, with the config's own names instead where it gives them.
SignalNames signalNames(const config::SignalsConfig& config);

struct SignalReading {
  double running = -1;  // below 0: not in the body
  double waiting = -1;
  double kvCacheUsage = -1;
};

SignalReading readSignals(std::string_view body, const SignalNames& names);

}  // namespace infergate
