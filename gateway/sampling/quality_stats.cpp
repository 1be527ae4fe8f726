// The quality pipeline's families: samples, drops, flags, scores, human
// labels, scorer agreement and the judge's results.
#include "gateway/sampling/quality_pipeline.hpp"

namespace infergate {

namespace {
using At = std::span<const std::uint32_t>;
using Zeros = metrics::FamilySpec::Zeros;

double load(const std::atomic<std::uint64_t>& v) { return static_cast<double>(v.load(std::memory_order_relaxed)); }

std::shared_ptr<const std::vector<double>> bounds(std::vector<double> b) {
  return std::make_shared<const std::vector<double>>(std::move(b));
}
}  // namespace

// Per-model series exist from the start (at zero) for the models configured
// routes serve, and appear for any other once it has a sample or a label.
bool QualityPipeline::modelSeen(std::uint32_t m) const {
  if (m != metrics::LabelSpace::kNone && labels_.modelServed(m)) return true;
  return samples_[m].load(std::memory_order_relaxed) != 0 || feedback_[m * 2].load(std::memory_order_relaxed) != 0 ||
         feedback_[m * 2 + 1].load(std::memory_order_relaxed) != 0;
}

void QualityPipeline::declareStats(metrics::StatsRegistry& stats) {
  const auto seen = [this](At at) { return modelSeen(at[0]); };
  const auto models = labels_.modelDimension();
  stats.counterFrom({"infergate_output_samples_total", "Answers sampled and processed (scored when 2xx).", {models},
                     Zeros::Skip, seen},
                    [this](At at) { return load(samples_[at[0]]); });
  stats.counterFrom({"infergate_output_samples_dropped_total",
                     "Samples not taken: per-minute budget spent, or the scoring queue full.",
                     {metrics::Dimension::of("reason", {"budget", "queue_full"})}, Zeros::Export},
                    [this](At at) { return load(at[0] == 0 ? droppedBudget_ : droppedQueue_); });
  std::vector<std::string> flagNames(quality::kFlagNames.begin(), quality::kFlagNames.end());
  stats.counterFrom({"infergate_output_flags_total", "Scored answers that raised each quality flag.",
                     {models, metrics::Dimension::of("flag", std::move(flagNames))}, Zeros::Skip, seen},
                    [this](At at) { return load(flags_[at[0] * quality::kFlagCount + at[1]]); });
  quality_ = stats.histogram<1>({"infergate_output_quality_score",
                                 "Quality score of scored answers (lowest scorer, 0 to 1).", {models}, Zeros::Skip, seen},
                                bounds({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}), 1);
  stats.counterFrom({"infergate_feedback_total", "Human labels received through POST /v1/feedback.",
                     {models, metrics::Dimension::of("label", {"good", "bad"})}, Zeros::Skip,
                     seen},
                    [this](At at) { return load(feedback_[at[0] * 2 + at[1]]); });
  stats.counterFrom({"infergate_output_sink_errors_total", "Sample lines the JSONL sink failed to write.", {},
                     Zeros::Export},
                    [this](At) { return load(sinkErrors_); });
  stats.gaugeFrom({"infergate_output_queue_depth", "Samples waiting to be scored.", {}, Zeros::Export},
                  [this](At) { return static_cast<double>(queued_.load(std::memory_order_relaxed)); });
  declareAgreementStats(stats);
  if (!judge_) return;
  static constexpr JudgeResult kResults[] = {JudgeResult::Ok,    JudgeResult::ParseError,  JudgeResult::Timeout,
                                             JudgeResult::Error, JudgeResult::CircuitOpen, JudgeResult::Dropped};
  std::vector<std::string> results;
  for (auto r : kResults) results.emplace_back(judgeResultName(r));
  stats.counterFrom({"infergate_judge_requests_total", "LLM judge requests by result.",
                     {metrics::Dimension::of("result", std::move(results))}, Zeros::Export},
                    [this](At at) { return load(judgeResults_[static_cast<std::size_t>(kResults[at[0]])]); });
  judgeScores_ = stats.histogram<1>({"infergate_judge_score", "Scores (1 to 5) the LLM judge gave.", {models}},
                                    bounds({1, 2, 3, 4, 5}), 1);
}

// Precision, recall and F1 of each scorer (and the judge) against human
// labels; a series appears once it is defined (verdicts and labels exist).
void QualityPipeline::declareAgreementStats(metrics::StatsRegistry& stats) {
  std::vector<std::string> scorers;
  for (const auto& d : store_.agreement()) scorers.push_back(d.name);
  // Computed once per scrape (the scrape thread is its only reader).
  stats.beforeScrape([this] { agreementSnapshot_ = store_.agreement(); });
  using Measure = std::optional<double> (quality::Agreement::*)() const;
  const auto declare = [&](const char* name, const char* help, Measure measure) {
    const auto value = [this, measure](At at) { return (agreementSnapshot_[at[0]].agreement.*measure)(); };
    stats.gaugeFrom({name, help, {metrics::Dimension::of("scorer", scorers)}, Zeros::Skip,
                     [value](At at) { return value(at).has_value(); }},
                    [value](At at) { return value(at).value_or(0); });
  };
  declare("infergate_output_scorer_precision", "Share of a scorer's (or the judge's) bad verdicts that humans labelled bad.",
          &quality::Agreement::precision);
  declare("infergate_output_scorer_recall", "Share of human bad labels the scorer (or judge) flagged.",
          &quality::Agreement::recall);
  declare("infergate_output_scorer_f1", "F1 of a scorer's (or the judge's) bad verdict against human labels.",
          &quality::Agreement::f1);
}

}  // namespace infergate
