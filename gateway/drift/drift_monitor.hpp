#pragma once
// Input drift, evaluated off the request path on the control thread. Workers
// only count feature bins (filters/request_metrics/request_stats.hpp); every evaluation interval this
// monitor snapshots the merged cumulative counts, so the current window is the
// difference between now and the snapshot one window ago: a ring of snapshots,
// no per-request work. Per model, the baseline is learnt from its first
// `learn_requests` requests (or loaded from the baseline file) and then frozen;
// PSI, KS D (ordered features) and chi-square (categorical ones) compare the
// window with it once the window holds `min_window_requests`.
#include <prometheus/metric_family.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "filters/profile/baseline_view.hpp"
#include "filters/profile/features.hpp"
#include "filters/profile/profile_stats.hpp"
#include "filters/profile/vector_queue.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"
#include <span>

namespace infergate {

class DriftMonitor {
 public:
  DriftMonitor(boost::asio::io_context& io, const config::DriftConfig& config, const metrics::LabelSpace& labels,
               const profile::BinSpec& bins, const profile::ProfileStats& stats, profile::BaselineView& view);
  void start();
  void stop();
  void evaluateNow();  // one evaluation (also run by the timer)
  // The control thread (a config reload): new warn and alert thresholds, from
  // the next evaluation on.
  // A reload's settings (the control thread, which evaluates): thresholds,
  // learning and window sizes, the evaluation interval (the next look is one
  // new interval away). A model that has its baseline keeps it, and its
  // window its counts.
  void setSettings(const config::DriftConfig& config);

  // Freezes the current window as every model's baseline (POST /admin/drift/baseline).
  std::string freezeWindowAsBaseline();
  std::string report() const;  // GET /admin/drift
  // The control thread: the model's worst feature in the last evaluation
  // (empty feature when it was not evaluated).
  struct WorstDrift {
    int alert = 0;
    double psi = 0;
    std::string_view feature;
  };
  WorstDrift worstDrift(std::uint32_t model) const;
  // Multivariate anomalies: the monitor drains the workers' request vectors
  // and learns each model's forest from its baseline requests (the first
  // learn_requests it sees, or the window frozen by POST /admin/drift/baseline).
  void attachForest(profile::HalfSpaceForest& forest, profile::VectorQueue& vectors);
  // Declares the drift gauges and baseline shares (drift_metrics.cpp), read
  // from this monitor at scrape (the control thread, which also evaluates).
  void declareStats(metrics::StatsRegistry& stats);

 private:
  using Counts = std::vector<std::uint64_t>;  // (feature * models + model) * kMaxBins + bin
  struct FeatureResult {
    double psi = 0, ks = 0, chiSquare = 0, pValue = 1;
    unsigned chiSquareDof = 0;
    double psiNull95 = 0, ksNull95 = 0;  // what unchanged traffic reads at these sample sizes
    int alert = 0;
  };
  struct ModelState {
    bool hasBaseline = false;
    bool learnt = false;          // from traffic (vs loaded)
    Counts baseline;              // this model's bins only: feature * kMaxBins + bin
    std::uint64_t windowRequests = 0;
    bool evaluated = false;
    std::vector<FeatureResult> results;  // by feature
    Counts window;
  };

  Counts snapshot() const;
  std::uint64_t modelTotal(const Counts& counts, std::uint32_t model) const;
  void extract(const Counts& counts, std::uint32_t model, Counts& out) const;
  void schedule();
  void loadBaseline();
  void writeBaseline() const;
  void publish(std::uint32_t model);
  void snapshotShares();
  void collectVectors();                  // drains the queue; learns forests that have their baseline
  void relearnForests();                  // from each model's latest vectors
  double baselineShare(std::span<const std::uint32_t> at, bool cumulative) const;

  boost::asio::io_context& io_;
  config::DriftConfig config_;
  const metrics::LabelSpace& labels_;
  const profile::BinSpec& bins_;
  const profile::ProfileStats& stats_;
  profile::BaselineView& view_;
  boost::asio::steady_timer timer_;
  std::vector<double> shares_;  // the baselines' shares by (model * features + feature) * kMaxBins + bin, per scrape
  std::deque<std::pair<std::chrono::steady_clock::time_point, Counts>> ring_;
  profile::HalfSpaceForest* forest_ = nullptr;
  profile::VectorQueue* vectors_ = nullptr;
  std::vector<std::deque<profile::FeatureVector>> recentVectors_;  // per model, at most learnWindow()
  std::size_t learnWindow() const {
    return std::min<std::size_t>(config_.learn_requests, profile::HalfSpaceForest::kMaxWindow);
  }
  std::vector<ModelState> models_;
  bool stopped_ = false;
};

}  // namespace infergate
