#include "gateway/diagnosis/diagnosis.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>

namespace infergate::diagnosis {

namespace {

// Shares are judged against the larger of a floor and twice their baseline:
// a stage is at fault when its indicator doubled and is not negligible.
constexpr double kShareFloor = 0.05;
constexpr double kFlagShareFloor = 0.10;
constexpr double kLatencyRatio = 2.0;

struct Indicator {
  std::string name;
  double value = 0;
  double baseline = -1;  // -1: none (not enough traffic before the window)
  double threshold = 0;
  double severity = 0;   // value / threshold: 1 or more is a fault
  std::string evidence;
};

struct Stage {
  std::vector<Indicator> indicators;
  const Indicator* worst() const {
    const Indicator* w = nullptr;
    for (const auto& i : indicators)
      if (w == nullptr || i.severity > w->severity) w = &i;
    return w;
  }
  double severity() const { return worst() ? worst()->severity : 0; }
};

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, share < 0.1 ? "%.1f%%" : "%.0f%%", share * 100);
  return text;
}

std::string number(double v, const char* format = "%.2f") {
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// A share in the window against its share before the window (when there was
// enough traffic then to have one).
void addShare(Stage& stage, const std::string& name, std::uint64_t count, std::uint64_t total,
              std::uint64_t baseCount, std::uint64_t baseTotal, std::uint64_t minTotal, double floor) {
  if (total < minTotal) return;
  Indicator i;
  i.name = name;
  i.value = static_cast<double>(count) / static_cast<double>(total);
  if (baseTotal >= minTotal) i.baseline = static_cast<double>(baseCount) / static_cast<double>(baseTotal);
  i.threshold = std::max(floor, 2 * std::max(i.baseline, 0.0));
  i.severity = i.value / i.threshold;
  i.evidence = name + " " + percent(i.value) +
               (i.baseline >= 0 ? " vs " + percent(i.baseline) + " baseline" : " (threshold " + percent(i.threshold) + ")");
  stage.indicators.push_back(std::move(i));
}

// The q-quantile of per-bucket counts, linear inside the bucket (as
// Prometheus' histogram_quantile reads it); -1 when empty.
double quantile(const std::vector<std::uint64_t>& buckets, const std::vector<double>& bounds, double q) {
  std::uint64_t total = 0;
  for (auto c : buckets) total += c;
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  double below = 0, lower = 0;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const double upper = b < bounds.size() ? bounds[b] : lower;
    const double count = static_cast<double>(buckets[b]);
    if (below + count >= rank && count > 0) return lower + (upper - lower) * (rank - below) / count;
    below += count;
    lower = upper;
  }
  return lower;
}

std::vector<std::uint64_t> minus(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  std::vector<std::uint64_t> out(a.size(), 0);
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] - (i < b.size() ? b[i] : 0);
  return out;
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
  std::uint64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

boost::json::object stageJson(const Stage& stage) {
  boost::json::array indicators;
  for (const auto& i : stage.indicators) {
    boost::json::object o{{"name", i.name},          {"value", i.value},        {"threshold", i.threshold},
                          {"fault", i.severity >= 1}, {"evidence", i.evidence}};
    if (i.baseline >= 0) o["baseline"] = i.baseline;
    indicators.push_back(std::move(o));
  }
  return {{"fault", stage.severity() >= 1}, {"indicators", std::move(indicators)}};
}

}  // namespace

std::string diagnose(const Snapshot& before, const Snapshot& now, const std::vector<double>& ttftBounds,
                     const std::vector<ModelDrift>& drift, const std::vector<BackendBreakers>& breakers,
                     const Names& names, const Settings& s, std::vector<Verdict>* verdicts) {
  const std::size_t models = names.models.size(), backends = names.backends.size();
  // The two stages judged per model, once.
  std::vector<Stage> input(models), model(models);
  for (std::size_t m = 0; m < models; ++m) {
    const auto& n = now.models[m];
    const auto& b = before.models[m];
    const std::uint64_t requests = n.requests - b.requests;
    if (requests == 0) continue;
    if (m < drift.size() && !drift[m].feature.empty()) {
      Indicator i;
      i.name = "drift_psi";
      i.value = drift[m].psi;
      i.threshold = s.psiAlert;
      i.severity = drift[m].alert >= 2 ? std::max(1.0, i.value / i.threshold) : std::min(0.99, i.value / i.threshold);
      i.evidence = "PSI of " + drift[m].feature + " " + number(i.value);
      input[m].indicators.push_back(std::move(i));
    }
    addShare(input[m], "rejected", n.rejected - b.rejected, requests, b.rejected, b.requests, s.minRequests,
             kShareFloor);
    addShare(input[m], "anomalies", n.anomalies - b.anomalies, requests, b.anomalies, b.requests, s.minRequests,
             kShareFloor);
    addShare(input[m], "multivariate_anomalies", n.multivariate - b.multivariate, requests, b.multivariate,
             b.requests, s.minRequests, std::max(kShareFloor / 2, 3 * (1 - s.multivariateThreshold)));
    const std::uint64_t scored = n.scored - b.scored;
    for (std::size_t f = 0; f < quality::kFlagCount; ++f) {
      const auto flagged = n.flags[f] - b.flags[f];
      if (flagged == 0 && b.flags[f] == 0) continue;
      addShare(model[m], std::string(quality::kFlagNames[f]), flagged, scored, b.flags[f], b.scored, s.minScored,
               kFlagShareFloor);
    }
  }

  boost::json::array entries;
  for (std::size_t backend = 0; backend < backends; ++backend)
    for (std::size_t m = 0; m < models; ++m) {
      const auto& n = now.pairs[backend * models + m];
      const auto& b = before.pairs[backend * models + m];
      const std::uint64_t requests = n.requests - b.requests;
      if (requests == 0) continue;
      Stage deployment;
      addShare(deployment, "errors", n.errors - b.errors, requests, b.errors, b.requests, s.minRequests, kShareFloor);
      if (backend < breakers.size() && breakers[backend].open > 0) {
        Indicator i;
        i.name = "open_breakers";
        i.value = breakers[backend].open;
        i.threshold = 1;
        i.severity = 1 + static_cast<double>(breakers[backend].open) / std::max(1u, breakers[backend].endpoints);
        i.evidence = std::to_string(breakers[backend].open) + " of " + std::to_string(breakers[backend].endpoints) +
                     " endpoints ejected";
        deployment.indicators.push_back(std::move(i));
      }
      const auto windowTtft = minus(n.ttft, b.ttft);
      if (sum(windowTtft) >= s.minStreams && sum(b.ttft) >= s.minStreams) {
        Indicator i;
        i.name = "ttft_p90_seconds";
        i.value = quantile(windowTtft, ttftBounds, 0.9);
        i.baseline = quantile(b.ttft, ttftBounds, 0.9);
        i.threshold = kLatencyRatio * i.baseline;
        i.severity = i.threshold > 0 ? i.value / i.threshold : 0;
        i.evidence = "TTFT p90 " + number(i.value, "%.3f") + " s vs " + number(i.baseline, "%.3f") + " s baseline";
        deployment.indicators.push_back(std::move(i));
      }

      // The stage with the worst indicator at fault, if any.
      const std::array<std::pair<const char*, const Stage*>, kStages> stages = {
          {{kStageNames[0], &input[m]}, {kStageNames[1], &deployment}, {kStageNames[2], &model[m]}}};
      if (verdicts != nullptr) {
        Verdict v{static_cast<std::uint32_t>(backend), static_cast<std::uint32_t>(m), {}};
        for (std::size_t k = 0; k < kStages; ++k) v.fault[k] = stages[k].second->severity() >= 1;
        verdicts->push_back(v);
      }
      const char* verdict = "none";
      double worst = 1;
      std::string evidence;
      for (const auto& [name, stage] : stages) {
        const auto severity = stage->severity();
        if (severity >= worst) {
          worst = severity;
          verdict = name;
        }
        if (!evidence.empty()) evidence += "; ";
        evidence += std::string(name) + ": " + (severity >= 1 ? stage->worst()->evidence : "normal");
      }
      entries.push_back(boost::json::object{
          {"backend", names.backends[backend]},
          {"model", names.models[m]},
          {"requests", requests},
          {"verdict", verdict},
          {"evidence", evidence},
          {"stages", boost::json::object{{"input", stageJson(input[m])},
                                         {"deployment", stageJson(deployment)},
                                         {"model", stageJson(model[m])}}}});
    }
  return boost::json::serialize(boost::json::object{{"window_seconds", now.atSeconds - before.atSeconds},
                                                    {"entries", std::move(entries)}});
}

}  // namespace infergate::diagnosis
