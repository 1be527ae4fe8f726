#include "gateway/drift/drift_monitor.hpp"

#include "filters/core/log_line.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <stdexcept>

#include "filters/profile/baseline_file.hpp"
#include "filters/profile/drift_stats.hpp"

namespace infergate {

using profile::Feature;
using profile::kFeatureCount;
using profile::featureBinSlot;
using profile::kMaxBins;

DriftMonitor::DriftMonitor(boost::asio::io_context& io, const config::DriftConfig& config,
                           const metrics::LabelSpace& labels, const profile::BinSpec& bins,
                           const profile::ProfileStats& stats, profile::BaselineView& view)
    : io_(io), config_(config), labels_(labels), bins_(bins), stats_(stats), view_(view), timer_(io) {
  models_.resize(labels_.modelCount());
  for (auto& m : models_) m.results.resize(kFeatureCount);
  loadBaseline();
  for (std::uint32_t m = 0; m < models_.size(); ++m) publish(m);
}

// Tells the workers which bins of the model's baseline are usual (drift.anomaly).
void DriftMonitor::publish(std::uint32_t model) {
  const auto& state = models_[model];
  if (!state.hasBaseline) return;
  const auto& anomaly = config_.anomaly;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const bool checked = (anomaly.feature_mask & (1u << f)) != 0;
    view_.publish(model, f,
                  checked ? profile::usualBins(&state.baseline[f * kMaxBins], kMaxBins, anomaly.rare_share) : 0);
  }
}

void DriftMonitor::start() {
  ring_.emplace_back(std::chrono::steady_clock::now(), snapshot());
  schedule();
}

void DriftMonitor::setSettings(const config::DriftConfig& config) {
  config_.psi_warn = config.psi_warn;
  config_.psi_alert = config.psi_alert;
  config_.ks_alert = config.ks_alert;
  config_.learn_requests = config.learn_requests;
  config_.min_window_requests = config.min_window_requests;
  config_.window = config.window;
  const bool sooner = config.evaluation_interval != config_.evaluation_interval;
  config_.evaluation_interval = config.evaluation_interval;
  if (sooner && !ring_.empty() && !stopped_) schedule();  // the pending wait is cancelled
}

void DriftMonitor::stop() {
  stopped_ = true;
  timer_.cancel();
}

void DriftMonitor::schedule() {
  timer_.expires_after(config_.evaluation_interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    evaluateNow();
    schedule();
  });
}

DriftMonitor::Counts DriftMonitor::snapshot() const {
  const std::uint32_t models = labels_.modelCount();
  Counts counts(kFeatureCount * models * kMaxBins, 0);
  for (std::uint32_t f = 0; f < kFeatureCount; ++f)
    for (std::uint32_t m = 0; m < models; ++m)
      for (std::uint32_t b = 0; b < kMaxBins; ++b)
        counts[featureBinSlot(f, m, b, models)] = stats_.featureBins.total({f, m, b});
  return counts;
}

// Requests of a model: every request lands in exactly one bin of each feature.
std::uint64_t DriftMonitor::modelTotal(const Counts& counts, std::uint32_t model) const {
  std::uint64_t total = 0;
  const std::size_t models = labels_.modelCount();
  for (std::size_t b = 0; b < kMaxBins; ++b) total += counts[featureBinSlot(0, model, b, models)];
  return total;
}

void DriftMonitor::extract(const Counts& counts, std::uint32_t model, Counts& out) const {
  const std::size_t models = labels_.modelCount();
  out.assign(kFeatureCount * kMaxBins, 0);
  for (std::size_t f = 0; f < kFeatureCount; ++f)
    for (std::size_t b = 0; b < kMaxBins; ++b) out[f * kMaxBins + b] = counts[featureBinSlot(f, model, b, models)];
}

void DriftMonitor::attachForest(profile::HalfSpaceForest& forest, profile::VectorQueue& vectors) {
  forest_ = &forest;
  vectors_ = &vectors;
  recentVectors_.assign(models_.size(), {});
}

// A model's forest learns from its first learnWindow() requests, like its
// baseline; afterwards its latest requests are kept for a re-freeze.
void DriftMonitor::collectVectors() {
  if (forest_ == nullptr) return;
  vectors_->drain([this](const profile::ModelVector& mv) {
    auto& recent = recentVectors_[mv.model];
    if (!forest_->ready(mv.model) && recent.size() >= learnWindow()) return;
    recent.push_back(mv.vector);
    if (recent.size() > learnWindow()) recent.pop_front();
  });
  for (std::uint32_t m = 0; m < recentVectors_.size(); ++m) {
    const auto& recent = recentVectors_[m];
    if (!forest_->ready(m) && recent.size() >= learnWindow())
      forest_->learn(m, std::vector<profile::FeatureVector>(recent.begin(), recent.end()));
  }
}

void DriftMonitor::relearnForests() {
  if (forest_ == nullptr) return;
  for (std::uint32_t m = 0; m < recentVectors_.size(); ++m)
    if (!recentVectors_[m].empty())
      forest_->learn(m, std::vector<profile::FeatureVector>(recentVectors_[m].begin(), recentVectors_[m].end()));
}

void DriftMonitor::evaluateNow() {
  collectVectors();
  const auto now = std::chrono::steady_clock::now();
  auto current = snapshot();
  ring_.emplace_back(now, current);
  // The window starts at the newest snapshot at least one window old.
  while (ring_.size() > 2 && now - ring_[1].first >= config_.window) ring_.pop_front();
  const auto& start = ring_.front().second;
  bool learnt = false;
  for (std::uint32_t m = 0; m < models_.size(); ++m) {
    auto& state = models_[m];
    if (!state.hasBaseline && modelTotal(current, m) >= config_.learn_requests) {
      extract(current, m, state.baseline);  // everything seen so far: the first N (or a little more)
      state.hasBaseline = state.learnt = learnt = true;
      publish(m);
    }
    Counts windowAll(current.size());
    for (std::size_t i = 0; i < current.size(); ++i) windowAll[i] = current[i] - start[i];
    extract(windowAll, m, state.window);
    state.windowRequests = modelTotal(windowAll, m);
    state.evaluated = state.hasBaseline && state.windowRequests >= config_.min_window_requests;
    if (!state.evaluated) continue;
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto bins = bins_.binCount(static_cast<Feature>(f));
      Counts b(state.baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins),
               state.baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins + bins));
      Counts w(state.window.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins),
               state.window.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins + bins));
      const auto bs = profile::shares(b), ws = profile::shares(w);
      auto& r = state.results[f];
      r.psi = profile::psi(bs, ws);
      r.ks = profile::ordered(static_cast<Feature>(f)) ? profile::ksDistance(bs, ws) : 0;
      // Two samples (the baseline is one too): a test of homogeneity.
      const auto chi = profile::chiSquareHomogeneity(b, w);
      r.chiSquare = chi.statistic;
      r.chiSquareDof = chi.degreesOfFreedom;
      r.pValue = chi.pValue;
      std::uint64_t n = 0, windowCount = 0;
      unsigned seen = 0;
      for (std::size_t i = 0; i < bins; ++i) {
        n += b[i];
        windowCount += w[i];
        seen += (b[i] + w[i]) > 0;
      }
      r.psiNull95 = profile::psiNull95(seen, n, windowCount);
      r.ksNull95 = profile::ksNull95(n, windowCount);
      r.alert = (r.psi >= config_.psi_alert || r.ks >= config_.ks_alert) ? 2 : r.psi >= config_.psi_warn ? 1 : 0;
    }
  }
  if (learnt) writeBaseline();
}

std::string DriftMonitor::freezeWindowAsBaseline() {
  evaluateNow();
  unsigned frozen = 0;
  for (auto& state : models_) {
    if (state.windowRequests == 0) continue;
    state.baseline = state.window;
    state.hasBaseline = true;
    state.learnt = false;
    ++frozen;
  }
  for (std::uint32_t m = 0; m < models_.size(); ++m) publish(m);
  writeBaseline();
  relearnForests();  // the multivariate reference follows the baseline
  evaluateNow();
  return "{\"frozen_models\":" + std::to_string(frozen) + "}";
}

// The file format (version 1) lives in filters/profile/baseline_file.hpp.
void DriftMonitor::writeBaseline() const {
  if (config_.baseline_file.empty()) return;
  std::vector<profile::ModelBaseline> models;
  for (std::uint32_t m = 0; m < models_.size(); ++m)
    if (models_[m].hasBaseline) models.push_back({labels_.model(m), models_[m].baseline});
  const auto error = profile::writeBaselineFile(config_.baseline_file, models, bins_);
  // The baseline stays in force in memory; only the copy for the next start is lost.
  if (!error.empty()) log::write(log::Level::Warn, {}, "drift baseline not saved: " + error);
}

// A file that cannot be used stops the start (the error names the entry):
// learning anew would overwrite the operator's baseline with another one.
void DriftMonitor::loadBaseline() {
  if (config_.baseline_file.empty()) return;
  auto file = profile::readBaselineFile(config_.baseline_file, bins_);
  if (!file.ok()) throw std::runtime_error("drift baseline " + config_.baseline_file + ": " + file.error);
  const auto& labels = labels_;
  for (auto& model : file.models) {
    const auto m = labels.modelIndex(model.model);
    if (labels.model(m) != model.model) {
      log::write(log::Level::Warn, {}, "drift baseline " + config_.baseline_file + ": model " + model.model +
                                " is not a configured model label; ignored");
      continue;
    }
    models_[m].baseline = std::move(model.counts);
    models_[m].hasBaseline = true;
  }
}

DriftMonitor::WorstDrift DriftMonitor::worstDrift(std::uint32_t model) const {
  WorstDrift worst;
  const auto& state = models_[model];
  if (!state.evaluated) return worst;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const auto& r = state.results[f];
    if (worst.feature.empty() || r.alert > worst.alert || (r.alert == worst.alert && r.psi > worst.psi)) {
      worst.alert = r.alert;
      worst.psi = r.psi;
      worst.feature = profile::featureName(static_cast<Feature>(f));
    }
  }
  return worst;
}

std::string DriftMonitor::report() const {
  boost::json::object models;
  const auto& labels = labels_;
  for (std::uint32_t m = 0; m < models_.size(); ++m) {
    const auto& state = models_[m];
    if (!state.hasBaseline && state.windowRequests == 0) continue;
    boost::json::object features;
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto feature = static_cast<Feature>(f);
      const auto bins = bins_.binCount(feature);
      Counts b(state.baseline.empty() ? bins : 0), w;
      if (!state.baseline.empty())
        b.assign(state.baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins),
                 state.baseline.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins + bins));
      if (!state.window.empty())
        w.assign(state.window.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins),
                 state.window.begin() + static_cast<std::ptrdiff_t>(f * kMaxBins + bins));
      else
        w.assign(bins, 0);
      const auto bs = profile::shares(b), ws = profile::shares(w);
      boost::json::object baselineShares, currentShares;
      for (std::size_t i = 0; i < bins; ++i) {
        baselineShares[bins_.binLabel(feature, i)] = bs[i];
        currentShares[bins_.binLabel(feature, i)] = ws[i];
      }
      boost::json::object entry{{"baseline", std::move(baselineShares)}, {"current", std::move(currentShares)}};
      if (state.evaluated) {
        const auto& r = state.results[f];
        entry["psi"] = r.psi;
        entry["psi_null_p95"] = r.psiNull95;
        if (profile::ordered(feature)) {
          entry["ks"] = r.ks;
          entry["ks_null_p95"] = r.ksNull95;
        }
        entry["chi_square"] = r.chiSquare;
        entry["chi_square_dof"] = r.chiSquareDof;
        entry["p_value"] = r.pValue;
        entry["alert"] = r.alert;
      }
      features[profile::featureName(feature)] = std::move(entry);
    }
    boost::json::object entry{{"has_baseline", state.hasBaseline},
                              {"baseline_learnt", state.learnt},
                              {"window_requests", state.windowRequests},
                              {"evaluated", state.evaluated},
                              {"features", std::move(features)}};
    if (forest_ != nullptr)
      entry["multivariate"] = boost::json::object{{"ready", forest_->ready(m)},
                                                  {"reference_requests", recentVectors_[m].size()},
                                                  {"threshold", config_.multivariate.threshold}};
    models[labels.model(m)] = std::move(entry);
  }
  return boost::json::serialize(boost::json::object{
      {"thresholds",
       boost::json::object{{"psi_warn", config_.psi_warn}, {"psi_alert", config_.psi_alert}, {"ks_alert", config_.ks_alert}}},
      {"models", std::move(models)}});
}

}  // namespace infergate
