#pragma once
// Output sampling off the request path. Workers decide which requests are
// sampled (quality::sampledAt on the request id, always-sample rules, the
// per-minute budget) and hand the captured exchange over; this pipeline's own
// thread extracts, redacts and scores it, records metrics, asks the judge for
// a share of them, writes the sink and keeps recent samples for /admin/samples
// and feedback. The hand-over queue is bounded: when full, samples are dropped
// and counted, never waited for.
#include <prometheus/metric_family.h>
#include <simdjson.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "filters/quality/redaction.hpp"
#include "filters/quality/sample_handoff.hpp"
#include "filters/quality/sampling.hpp"
#include "filters/quality/scorers.hpp"
#include "gateway/sampling/judge_client.hpp"
#include "filters/quality/output_sample.hpp"
#include "gateway/server/runtime.hpp"
#include "filters/core/rotating_file.hpp"
#include "gateway/sampling/sample_store.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class QualityPipeline final : public SampleHandoff {
 public:
  // Declares its families on `stats` (read at scrape; histograms written by its own thread).
  // The judge, when configured, reaches its backend through `cluster`'s breakers.
  QualityPipeline(std::shared_ptr<const Runtime> runtime, const metrics::LabelSpace& labels,
                  metrics::StatsRegistry& stats, ClusterState& cluster);
  ~QualityPipeline();
  void start();
  void stop();
  // Any thread (SIGUSR1): the sample sink's file is opened again before its next sample.
  void reopenSink() {
    if (sink_) sink_->reopen();
  }
  // A reload: the judge's calls go by the new backends' endpoints. (The
  // sampling decisions are the filters', built for each config; the rest of
  // the sampling section is read at start.)
  void adopt(std::shared_ptr<const Runtime> runtime);

  // ---- any worker thread ----
  const config::SamplingConfig& config() const override { return config_; }
  // Takes one sample from the budget (max_per_minute, spread evenly); counts a drop when it is empty.
  bool admit() override;
  // Queues a sample for scoring; drops and counts it when the queue is full.
  void offer(std::unique_ptr<OutputSample> sample) override;
  // A human label for a sampled request; the model's label index, or nothing for an unknown id.
  std::optional<std::uint32_t> feedback(std::string_view requestId, bool bad,
                                        std::optional<std::uint32_t> key = std::nullopt) override;

  // ---- admin / scrape threads ----
  // Answers of `model` scored so far, and those that raised `flag` (the diagnosis).
  std::uint64_t scored(std::uint32_t model) const { return quality_.count({model}); }
  std::uint64_t flagged(std::uint32_t model, std::size_t flag) const {
    return flags_[model * quality::kFlagCount + flag].load(std::memory_order_relaxed);
  }
  // GET /admin/samples: false when `flag` names no flag.
  bool samplesReport(std::size_t limit, std::string_view flag, std::string& out) const;

 private:
  void declareStats(metrics::StatsRegistry& stats);  // quality_stats.cpp
  void declareAgreementStats(metrics::StatsRegistry& stats);
  bool modelSeen(std::uint32_t model) const;        // its per-model series are exported
  void process(OutputSample& sample);
  quality::CapturedOutput answerOf(OutputSample& in, StoredSample& s, bool& streamFinished);
  void finishSample(const std::shared_ptr<StoredSample>& sample);
  std::string promptForSample(const std::string& prompt) const;

  const metrics::LabelSpace& labels_;
  config::SamplingConfig config_;
  std::uint64_t judgeThreshold_ = 0;
  quality::SampleBudget budget_;
  quality::ScorerSettings scorers_;
  quality::Redactor redactor_;
  SampleStore store_;
  std::unique_ptr<RotatingFile> sink_;

  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<UpstreamClient> upstream_;  // the judge's; on this pipeline's thread
  std::unique_ptr<JudgeClient> judge_;
  simdjson::ondemand::parser parser_;  // pipeline thread only
  std::atomic<unsigned> queued_{0};

  // Metrics. Counters may be bumped from several threads (drops, feedback):
  // atomic increments, off the request path. Histograms: pipeline thread only.
  std::vector<std::atomic<std::uint64_t>> samples_;     // by model
  std::atomic<std::uint64_t> droppedBudget_{0}, droppedQueue_{0}, sinkErrors_{0};
  std::vector<std::atomic<std::uint64_t>> flags_;       // model * kFlagCount + flag
  std::vector<std::atomic<std::uint64_t>> feedback_;    // model * 2 + bad
  std::vector<std::atomic<std::uint64_t>> judgeResults_;  // by JudgeResult
  std::vector<SampleStore::Detector> agreementSnapshot_;  // scrape thread only
  metrics::Histogram<1> quality_;                       // by model; the pipeline thread is its one writer
  metrics::Histogram<1> judgeScores_;                   // by model; same
};

}  // namespace infergate
