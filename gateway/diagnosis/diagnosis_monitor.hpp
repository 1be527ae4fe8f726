#pragma once
// GET /admin/diagnosis: takes cumulative snapshots of the counts the
// diagnosis judges (diagnosis.hpp) every interval on the control thread, and
// judges the latest window against the counts before it. No request-path
// work: everything read here is already counted for metrics, drift and
// sampling.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <deque>
#include <string>

#include "config/config.hpp"
#include "filters/profile/profile_stats.hpp"
#include "filters/request_metrics/request_stats.hpp"
#include "gateway/diagnosis/diagnosis.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

class ClusterState;
class DriftMonitor;
class QualityPipeline;

class DiagnosisMonitor {
 public:
  struct Sources {
    const metrics::RequestStats& requests;
    const profile::ProfileStats& profile;
    const metrics::LabelSpace& labels;
    const ClusterState& cluster;
    const QualityPipeline* quality = nullptr;  // null when sampling is off
    const DriftMonitor* drift = nullptr;       // null when drift is off
  };
  DiagnosisMonitor(boost::asio::io_context& io, const config::Config& config, Sources sources);
  void start();
  void stop();
  std::string report();  // the control thread: judges the window up to now
  // infergate_diagnosis_stage_fault{backend,model,stage}: 1 while the last
  // judgement (every interval) found that stage at fault.
  void declareStats(metrics::StatsRegistry& stats);

 private:
  diagnosis::Snapshot snapshot() const;
  void schedule();
  std::string judge(std::vector<diagnosis::Verdict>* verdicts);

  boost::asio::io_context& io_;
  config::DiagnosisConfig config_;
  Sources sources_;
  diagnosis::Settings settings_;
  diagnosis::Names names_;
  boost::asio::steady_timer timer_;
  std::deque<diagnosis::Snapshot> ring_;  // oldest first, back to one window ago
  std::vector<std::atomic<std::uint8_t>> faults_;  // [(backend * models + model) * stages + stage]
};

}  // namespace infergate
