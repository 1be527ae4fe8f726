#pragma once
// Which stage of a model service is failing: the data coming in, the
// deployment, or the model itself (the three stages of the ML monitoring
// literature this product follows). Per backend and model, over the last
// window, each stage's indicators are compared with their own baseline (the
// same counts before the window) or a threshold, and the stage with the worst
// indicator is named, with the evidence.
//
// This file is the judgement alone, on plain counts, so that it is testable
// without a gateway; DiagnosisMonitor (diagnosis_monitor.hpp) takes the
// snapshots and serves GET /admin/diagnosis.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "filters/quality/output_flags.hpp"

namespace infergate::diagnosis {

// Cumulative counts at one moment.
struct PairCounts {  // one backend and model
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;              // 5xx answers (the model server's or the gateway's for it)
  std::vector<std::uint64_t> ttft;       // time-to-first-token observations per bucket (+Inf last)
};
struct ModelCounts {
  std::uint64_t requests = 0;
  std::uint64_t rejected = 0;            // 400, 413, 422: inputs the gateway refused
  std::uint64_t anomalies = 0;           // per-feature rule
  std::uint64_t multivariate = 0;        // multivariate detector
  std::uint64_t scored = 0;              // sampled answers scored
  std::array<std::uint64_t, quality::kFlagCount> flags{};
};
struct Snapshot {
  double atSeconds = 0;                  // steady clock
  std::vector<PairCounts> pairs;         // [backend * models + model]
  std::vector<ModelCounts> models;       // [model]
};

// Signals that are already about "now" (not counts).
struct ModelDrift {
  int alert = 0;                         // the drift monitor's level: 2 alert
  double psi = 0;                        // the worst feature's PSI
  std::string feature;                   // that feature
};
struct BackendBreakers {
  unsigned open = 0, endpoints = 0;
};

struct Names {
  std::vector<std::string> backends;     // label index -> name
  std::vector<std::string> models;
};

struct Settings {
  double psiAlert = 0.25;
  double multivariateThreshold = 0.99;   // its expected share on usual traffic is 1 - this
  std::uint64_t minRequests = 20;        // fewer in the window: shares are not judged
  std::uint64_t minScored = 10;
  std::uint64_t minStreams = 20;         // TTFT compared only with this many in window and baseline
};

inline constexpr std::size_t kStages = 3;  // input, deployment, model
inline constexpr std::array<const char*, kStages> kStageNames = {"input", "deployment", "model"};

// Which stages of one backend and model are at fault (for the gauge).
struct Verdict {
  std::uint32_t backend = 0, model = 0;
  std::array<bool, kStages> fault{};
};

// `before`: the snapshot at the window's start (its counts are the baseline);
// `now`: the latest. Returns the JSON of GET /admin/diagnosis; `verdicts`,
// when given, receives each judged backend and model's faults.
std::string diagnose(const Snapshot& before, const Snapshot& now, const std::vector<double>& ttftBounds,
                     const std::vector<ModelDrift>& drift, const std::vector<BackendBreakers>& breakers,
                     const Names& names, const Settings& settings, std::vector<Verdict>* verdicts = nullptr);

}  // namespace infergate::diagnosis
