#include "gateway/diagnosis/diagnosis_monitor.hpp"

#include <chrono>

#include "gateway/drift/drift_monitor.hpp"
#include "gateway/sampling/quality_pipeline.hpp"
#include "gateway/upstream/cluster_state.hpp"

namespace infergate {

namespace {
double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

DiagnosisMonitor::DiagnosisMonitor(boost::asio::io_context& io, const config::Config& config, Sources sources)
    : io_(io),
      config_(config.diagnosis),
      sources_(sources),
      timer_(io),
      faults_(sources.labels.backendCount() * sources.labels.modelCount() * diagnosis::kStages) {
  settings_.psiAlert = config.drift.psi_alert;
  settings_.multivariateThreshold = config.drift.multivariate.threshold;
  const auto& labels = sources_.labels;
  for (std::uint32_t b = 0; b < labels.backendCount(); ++b) names_.backends.push_back(labels.backend(b));
  for (std::uint32_t m = 0; m < labels.modelCount(); ++m) names_.models.push_back(labels.model(m));
}

void DiagnosisMonitor::start() {
  ring_.push_back(snapshot());
  schedule();
}

void DiagnosisMonitor::stop() { timer_.cancel(); }

void DiagnosisMonitor::schedule() {
  timer_.expires_after(config_.interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    ring_.push_back(snapshot());
    // Keep the newest snapshot at least one window old, and everything after it.
    const double now = ring_.back().atSeconds, window = std::chrono::duration<double>(config_.window).count();
    while (ring_.size() > 2 && now - ring_[1].atSeconds >= window) ring_.pop_front();
    std::vector<diagnosis::Verdict> verdicts;
    judge(&verdicts);
    for (auto& f : faults_) f.store(0, std::memory_order_relaxed);
    const auto models = sources_.labels.modelCount();
    for (const auto& v : verdicts)
      for (std::size_t k = 0; k < diagnosis::kStages; ++k)
        faults_[(v.backend * models + v.model) * diagnosis::kStages + k].store(v.fault[k], std::memory_order_relaxed);
    schedule();
  });
}

diagnosis::Snapshot DiagnosisMonitor::snapshot() const {
  const auto& labels = sources_.labels;
  const auto& requests = sources_.requests;
  const std::size_t models = labels.modelCount(), backends = labels.backendCount();
  diagnosis::Snapshot s;
  s.atSeconds = steadySeconds();
  s.pairs.resize(backends * models);
  s.models.resize(models);
  const auto ttftBuckets = requests.timeToFirstToken.bounds().size() + 1;
  for (std::uint32_t p = 0; p < labels.pairCount(); ++p) {
    const auto backend = labels.pair(p).backend;
    for (std::uint32_t m = 0; m < models; ++m)
      for (std::uint32_t c = 1; c < metrics::LabelSpace::codeCount(); ++c) {
        const auto n = requests.requests.total({p, m, c});
        if (n == 0) continue;
        const auto code = metrics::LabelSpace::code(c);
        auto& pair = s.pairs[backend * models + m];
        auto& model = s.models[m];
        pair.requests += n;
        model.requests += n;
        if (code.front() == '5') pair.errors += n;
        if (code == "400" || code == "413" || code == "422") model.rejected += n;
      }
  }
  for (std::uint32_t b = 1; b < backends; ++b)
    for (std::uint32_t m = 0; m < models; ++m) {
      auto& ttft = s.pairs[b * models + m].ttft;
      ttft.resize(ttftBuckets);
      for (std::size_t k = 0; k < ttftBuckets; ++k) ttft[k] = requests.timeToFirstToken.bucket({b, m}, k);
    }
  for (std::uint32_t m = 0; m < models; ++m) {
    auto& model = s.models[m];
    for (std::uint32_t f = 0; f < profile::kFeatureCount; ++f) model.anomalies += sources_.profile.anomalies.total({m, f});
    model.multivariate = sources_.profile.multivariateAnomalies.total({m});
    if (sources_.quality == nullptr) continue;
    model.scored = sources_.quality->scored(m);
    for (std::size_t f = 0; f < quality::kFlagCount; ++f) model.flags[f] = sources_.quality->flagged(m, f);
  }
  return s;
}

void DiagnosisMonitor::declareStats(metrics::StatsRegistry& stats) {
  const auto& labels = sources_.labels;
  std::vector<std::string> stages(diagnosis::kStageNames.begin(), diagnosis::kStageNames.end());
  stats.gaugeFrom(
      {"infergate_diagnosis_stage_fault",
       "1 while GET /admin/diagnosis finds this stage (input, deployment, model) of a backend and model at fault.",
       {labels.backendDimension(1), labels.modelDimension(), metrics::Dimension::of("stage", std::move(stages))},
       metrics::FamilySpec::Zeros::Skip,
       [&labels](std::span<const std::uint32_t> at) {
         return at[1] != metrics::LabelSpace::kNone && labels.backendServesModel(at[0], at[1]);
       }},
      [this](std::span<const std::uint32_t> at) {
        const auto models = sources_.labels.modelCount();
        return static_cast<double>(
            faults_[(at[0] * models + at[1]) * diagnosis::kStages + at[2]].load(std::memory_order_relaxed));
      });
}

std::string DiagnosisMonitor::report() { return judge(nullptr); }

std::string DiagnosisMonitor::judge(std::vector<diagnosis::Verdict>* verdicts) {
  const auto now = snapshot();
  const auto& labels = sources_.labels;
  std::vector<diagnosis::ModelDrift> drift(labels.modelCount());
  if (sources_.drift != nullptr)
    for (std::uint32_t m = 0; m < drift.size(); ++m) {
      const auto worst = sources_.drift->worstDrift(m);
      drift[m] = {worst.alert, worst.psi, std::string(worst.feature)};
    }
  std::vector<diagnosis::BackendBreakers> breakers(labels.backendCount());
  for (std::uint32_t e = 1; e < labels.endpointCount(); ++e) {
    if (!sources_.cluster.live(e - 1)) continue;  // a reload removed it
    auto& b = breakers[labels.endpointBackend(e)];
    ++b.endpoints;
    if (sources_.cluster.endpoint(e - 1).breaker.state() == CircuitBreaker::State::Open) ++b.open;
  }
  return diagnosis::diagnose(ring_.front(), now, sources_.requests.timeToFirstToken.bounds(), drift, breakers, names_,
                             settings_, verdicts);
}

}  // namespace infergate
