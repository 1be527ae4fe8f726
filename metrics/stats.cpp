#include "metrics/stats.hpp"

#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>
#include <stdexcept>

#include "metrics/process_metrics.hpp"

namespace infergate::metrics {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

Dimension Dimension::of(std::string name, std::vector<std::string> values, std::size_t first) {
  const auto size = values.size();
  return Dimension(size, [name = std::move(name), values = std::move(values), first](
                             std::uint32_t v, std::span<const std::uint32_t>, Labels& out) {
    if (v < first) return false;
    out.push_back({name, values[v]});
    return true;
  });
}

Dimension Dimension::tuple(std::vector<std::string> names, std::vector<std::vector<std::string>> values,
                           std::size_t first) {
  const auto size = values.size();
  return Dimension(size, [names = std::move(names), values = std::move(values), first](
                             std::uint32_t v, std::span<const std::uint32_t>, Labels& out) {
    if (v < first) return false;
    for (std::size_t i = 0; i < names.size(); ++i) out.push_back({names[i], values[v][i]});
    return true;
  });
}

StatsRegistry::StatsRegistry(unsigned workers) : workers_(workers) {}
StatsRegistry::~StatsRegistry() = default;

StatsRegistry::Family& StatsRegistry::declare(FamilySpec spec, Kind kind, std::size_t dims) {
  if (spec.dims.size() != dims)
    throw std::logic_error("family " + spec.name + " declared with " + std::to_string(spec.dims.size()) +
                           " dimensions for a handle of " + std::to_string(dims));
  auto f = std::make_unique<Family>(std::move(spec), kind);
  for (const auto& d : f->spec.dims) f->size *= d.size();
  families_.push_back(std::move(f));
  return *families_.back();
}

void StatsRegistry::counterFrom(FamilySpec spec, ValueAt value) {
  const auto dims = spec.dims.size();
  declare(std::move(spec), Kind::Counter, dims).value = std::move(value);
}

void StatsRegistry::gaugeFrom(FamilySpec spec, ValueAt value) {
  const auto dims = spec.dims.size();
  declare(std::move(spec), Kind::Gauge, dims).value = std::move(value);
}

// One series' value, merged over the workers' shards (or read where it lives).
void StatsRegistry::fillValue(const Family& f, std::size_t index, std::span<const std::uint32_t> at,
                              ClientMetric& m, bool& nonZero) const {
  if (f.value) {
    const double v = f.value(at);
    (f.kind == Kind::Counter ? m.counter.value : m.gauge.value) = v;
    nonZero = v != 0;
    return;
  }
  switch (f.kind) {
    case Kind::Counter: {
      std::uint64_t sum = 0;
      for (const auto& s : f.counters) sum += s.get(index);
      m.counter.value = static_cast<double>(sum);
      nonZero = sum != 0;
      return;
    }
    case Kind::Gauge: {
      std::int64_t sum = 0;
      for (const auto& s : f.gauges) sum += s.get(index);
      m.gauge.value = static_cast<double>(sum);
      nonZero = sum != 0;
      return;
    }
    case Kind::Histogram: {
      // Shards keep per-bucket counts; Prometheus wants them cumulative.
      const auto& bounds = f.histograms.front().bounds();
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= bounds.size(); ++b) {
        for (const auto& s : f.histograms) cumulative += s.bucket(index, b);
        m.histogram.bucket.push_back(
            {cumulative, b < bounds.size() ? bounds[b] : std::numeric_limits<double>::infinity()});
      }
      for (const auto& s : f.histograms) m.histogram.sample_sum += s.sum(index);
      m.histogram.sample_count = cumulative;
      nonZero = cumulative != 0;
      return;
    }
  }
}

void StatsRegistry::collectFamily(const Family& f, std::vector<MetricFamily>& out) const {
  static constexpr MetricType kTypes[] = {MetricType::Counter, MetricType::Gauge, MetricType::Histogram};
  MetricFamily family{f.spec.name, f.spec.help, kTypes[static_cast<int>(f.kind)], {}};
  const auto& dims = f.spec.dims;
  std::vector<std::uint32_t> at(dims.size(), 0);
  for (std::size_t index = 0; index < f.size; ++index) {
    // `at` is `index` in mixed radix, the last dimension fastest.
    if (index > 0)
      for (std::size_t d = dims.size(); d-- > 0;) {
        if (++at[d] < dims[d].size()) break;
        at[d] = 0;
      }
    ClientMetric m;
    bool exported = true;
    for (std::size_t d = 0; d < dims.size() && exported; ++d) exported = dims[d].label(at[d], at, m.label);
    if (!exported) continue;
    bool nonZero = false;
    fillValue(f, index, at, m, nonZero);
    if (f.spec.exportIf ? !f.spec.exportIf(at) : !nonZero && f.spec.zeros == FamilySpec::Zeros::Skip) continue;
    family.metric.push_back(std::move(m));
  }
  out.push_back(std::move(family));
}

std::vector<MetricFamily> StatsRegistry::Collect() const {
  for (const auto& s : snapshots_) s();
  std::vector<MetricFamily> out;
  MetricFamily build{"infergate_build_info", "infergate version; always 1.", MetricType::Gauge, {}};
  ClientMetric b;
  b.label = {{"version", std::string(INFERGATE_VERSION)}};
  b.gauge.value = 1;
  build.metric.push_back(std::move(b));
  out.push_back(std::move(build));
  for (const auto& info : infos_) {
    MetricFamily family{info.name, info.help, MetricType::Gauge, {}};
    ClientMetric m;
    for (auto& [name, value] : info.labels()) m.label.push_back({std::move(name), std::move(value)});
    m.gauge.value = 1;
    family.metric.push_back(std::move(m));
    out.push_back(std::move(family));
  }
  for (const auto& f : families_) collectFamily(*f, out);
  appendProcessMetrics(out);
  return out;
}

std::string StatsRegistry::scrape() const {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, Collect());
  return text.str();
}

}  // namespace infergate::metrics
