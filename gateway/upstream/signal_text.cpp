#include "gateway/upstream/signal_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace infergate {

namespace {

using Kind = config::SignalsConfig::Kind;

// Metric names as the servers export them (checked against each project's
// sources and docs): vLLM's scheduler gauges and KV-cache gauge (named
// kv_cache_usage_perc since the V1 engine, gpu_cache_usage_perc before);
// TGI's batch and queue sizes (no KV-cache gauge); SGLang's running and
// queued requests and its token (KV pool) usage; llama.cpp server's
// processing and deferred requests and, in the builds that export it, its
// KV-cache ratio.
SignalNames preset(Kind kind) {
  switch (kind) {
    case Kind::Vllm:
      return {{"vllm:num_requests_running"}, {"vllm:num_requests_waiting"},
              {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}};
    case Kind::Tgi: return {{"tgi_batch_current_size"}, {"tgi_queue_size"}, {}};
    case Kind::Sglang: return {{"sglang:num_running_reqs"}, {"sglang:num_queue_reqs"}, {"sglang:token_usage"}};
    case Kind::Llamacpp:
      return {{"llamacpp:requests_processing"}, {"llamacpp:requests_deferred"}, {"llamacpp:kv_cache_usage_ratio"}};
    case Kind::Custom: break;
  }
  return {};
}

// A sample line's name and value ("name{labels} value [timestamp]").
bool parseLine(std::string_view line, std::string_view& name, double& value) {
  const auto nameEnd = line.find_first_of("{ \t");
  if (nameEnd == std::string_view::npos || nameEnd == 0) return false;
  name = line.substr(0, nameEnd);
  auto rest = line.substr(nameEnd);
  if (rest.front() == '{') {
    // Label values may hold '}' inside quotes: skip quoted text.
    bool quoted = false;
    std::size_t i = 1;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '\\' && quoted) ++i;
      else if (rest[i] == '"') quoted = !quoted;
      else if (rest[i] == '}' && !quoted) break;
    }
    if (i >= rest.size()) return false;
    rest = rest.substr(i + 1);
  }
  const auto start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  rest = rest.substr(start);
  const auto end = rest.find_first_of(" \t\r");
  const std::string text(rest.substr(0, end));
  char* stop = nullptr;
  value = std::strtod(text.c_str(), &stop);  // "NaN", "+Inf" and exponents as Prometheus writes them
  return stop == text.c_str() + text.size() && std::isfinite(value);
}

// Which of `names` `name` is (its rank: earlier names win), or -1.
int rankOf(std::string_view name, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

// One signal as the body is read: the best-ranked name seen, and its total or maximum.
struct Accumulator {
  int rank = -1;
  double value = -1;
  void add(int r, double v, bool largest) {
    if (rank != -1 && r > rank) return;  // a lesser name than one already seen
    if (rank != r) {
      rank = r;
      value = v;
      return;
    }
    value = largest ? std::max(value, v) : value + v;
  }
};

}  // namespace

SignalNames signalNames(const config::SignalsConfig& config) {
  auto names = preset(config.kind);
  if (!config.running.empty()) names.running = {config.running};
  if (!config.waiting.empty()) names.waiting = {config.waiting};
  if (!config.kv_cache_usage.empty()) names.kvCacheUsage = {config.kv_cache_usage};
  return names;
}

SignalReading readSignals(std::string_view body, const SignalNames& names) {
  Accumulator running, waiting, kv;
  while (!body.empty()) {
    const auto newline = body.find('\n');
    const auto line = body.substr(0, newline);
    body = newline == std::string_view::npos ? std::string_view() : body.substr(newline + 1);
    if (line.empty() || line.front() == '#') continue;
    std::string_view name;
    double value = 0;
    if (!parseLine(line, name, value)) continue;
    if (const auto r = rankOf(name, names.running); r >= 0) running.add(r, value, false);
    else if (const auto w = rankOf(name, names.waiting); w >= 0) waiting.add(w, value, false);
    else if (const auto k = rankOf(name, names.kvCacheUsage); k >= 0) kv.add(k, value, true);
  }
  return {running.value, waiting.value, kv.value};
}

}  // namespace infergate
