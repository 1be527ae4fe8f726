#pragma once
// Typed statistics: the one mechanism every metric family goes through.
//
// A feature declares its families next to its code, once, when the config is
// resolved: a name, a help text and its label dimensions (whose values all come
// from config, so clients cannot create series). Declaring returns a typed
// handle (Counter<N>, Gauge<N>, Histogram<N>, N = the number of dimensions)
// that owns the label-index arithmetic: the request path records with
// `handle.add(worker, {i, j})`, an array index and a relaxed atomic store in
// that worker's own shard, no lookup by name, no lock. At scrape time the
// registry merges the workers' shards and names every series.
//
// Values kept elsewhere (shared atomics, a pipeline's own counters) join the
// same exposition with counterFrom/gaugeFrom: the same dimensions and labels,
// a value read at scrape.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metrics/series.hpp"

namespace infergate::metrics {

using Labels = std::vector<prometheus::ClientMetric::Label>;

// One label dimension: how many index values it takes and the labels an index
// sets. A dimension that sets no label for a series' index (returns false)
// leaves that series out (the "none" cause, a bin a feature does not have).
class Dimension {
 public:
  // `value` is this dimension's index; `at` the whole series index, for
  // labels that depend on another dimension.
  using Labeler = std::function<bool(std::uint32_t value, std::span<const std::uint32_t> at, Labels& out)>;

  Dimension(std::size_t size, Labeler labeler) : size_(size), labeler_(std::move(labeler)) {}
  // One label; indexes below `first` are not exported.
  static Dimension of(std::string name, std::vector<std::string> values, std::size_t first = 0);
  // Several labels set together per index (a route and backend pair, an endpoint and its backend).
  static Dimension tuple(std::vector<std::string> names, std::vector<std::vector<std::string>> values,
                         std::size_t first = 0);

  std::size_t size() const { return size_; }
  bool label(std::uint32_t value, std::span<const std::uint32_t> at, Labels& out) const {
    return labeler_(value, at, out);
  }

 private:
  std::size_t size_;
  Labeler labeler_;
};

struct FamilySpec {
  // Skip: a series appears once it has a value. Export: every series, zeros included.
  enum class Zeros : std::uint8_t { Skip, Export };
  using ExportIf = std::function<bool(std::span<const std::uint32_t> at)>;

  FamilySpec(std::string name, std::string help, std::vector<Dimension> dims, Zeros zeros = Zeros::Skip,
             ExportIf exportIf = {})
      : name(std::move(name)), help(std::move(help)), dims(std::move(dims)), zeros(zeros),
        exportIf(std::move(exportIf)) {}

  std::string name;
  std::string help;
  std::vector<Dimension> dims;
  Zeros zeros;
  // When set, decides instead of `zeros` whether a series is exported (series
  // that appear together across families, e.g. request and response bytes).
  ExportIf exportIf;
};

// Row-major series index over N dimensions.
template <std::size_t N>
class Layout {
 public:
  Layout() = default;
  explicit Layout(const std::vector<Dimension>& dims) {
    std::size_t stride = 1;
    for (std::size_t i = N; i-- > 0;) {
      strides_[i] = stride;
      stride *= dims[i].size();
    }
    size_ = stride;
  }
  std::size_t index(const std::array<std::uint32_t, N>& at) const {
    std::size_t i = 0;
    for (std::size_t d = 0; d < N; ++d) i += at[d] * strides_[d];
    return i;
  }
  std::size_t size() const { return size_; }

 private:
  std::array<std::size_t, N> strides_{};
  std::size_t size_ = 1;
};

// What the three handles share: the writers' shards of one family (one array,
// which does not change size once the handle exists) and its index layout.
template <class Array, std::size_t N>
class ShardedHandle {
 public:
  using At = std::array<std::uint32_t, N>;
  ShardedHandle() = default;
  ShardedHandle(std::vector<Array>* shards, Layout<N> layout)
      : shards_(shards->data()), count_(shards->size()), layout_(layout) {}

 protected:
  // Worker `worker`'s thread only: its shard and the series index of `at`.
  Array& shard(unsigned worker) const { return shards_[worker]; }
  std::size_t index(const At& at) const { return layout_.index(at); }
  // Any thread: `read(shard, index)` summed over the writers.
  template <class T, class Read>
  T sum(const At& at, Read read) const {
    T total{};
    const auto i = layout_.index(at);
    for (std::size_t w = 0; w < count_; ++w) total += read(shards_[w], i);
    return total;
  }

 private:
  Array* shards_ = nullptr;
  std::size_t count_ = 0;
  Layout<N> layout_;
};

template <std::size_t N>
class Counter : public ShardedHandle<CounterArray, N> {
  using Base = ShardedHandle<CounterArray, N>;

 public:
  using typename Base::At;
  using Base::Base;
  void add(unsigned worker, const At& at, std::uint64_t n = 1) const { this->shard(worker).add(this->index(at), n); }
  std::uint64_t get(unsigned worker, const At& at) const { return this->shard(worker).get(this->index(at)); }
  std::uint64_t total(const At& at) const {
    return this->template sum<std::uint64_t>(at, [](const CounterArray& s, std::size_t i) { return s.get(i); });
  }
};

template <std::size_t N>
class Gauge : public ShardedHandle<GaugeArray, N> {
  using Base = ShardedHandle<GaugeArray, N>;

 public:
  using typename Base::At;
  using Base::Base;
  void add(unsigned worker, const At& at, std::int64_t n) const { this->shard(worker).add(this->index(at), n); }
  void set(unsigned worker, const At& at, std::int64_t v) const { this->shard(worker).set(this->index(at), v); }
  std::int64_t total(const At& at) const {
    return this->template sum<std::int64_t>(at, [](const GaugeArray& s, std::size_t i) { return s.get(i); });
  }
};

template <std::size_t N>
class Histogram : public ShardedHandle<HistogramArray, N> {
  using Base = ShardedHandle<HistogramArray, N>;

 public:
  using typename Base::At;
  using Base::Base;
  void observe(unsigned worker, const At& at, double value) const {
    this->shard(worker).observe(this->index(at), value);
  }
  std::uint64_t count(const At& at) const {
    return this->template sum<std::uint64_t>(at, [](const HistogramArray& s, std::size_t i) { return s.count(i); });
  }
  // Any thread: observations in bucket `b` (not cumulative; b = bounds().size() is +Inf).
  std::uint64_t bucket(const At& at, std::size_t b) const {
    return this->template sum<std::uint64_t>(at, [b](const HistogramArray& s, std::size_t i) { return s.bucket(i, b); });
  }
  const std::vector<double>& bounds() const { return this->shard(0).bounds(); }
};

class StatsRegistry : public prometheus::Collectable {
 public:
  explicit StatsRegistry(unsigned workers);
  ~StatsRegistry() override;
  unsigned workers() const { return workers_; }

  // ---- declaring (config time, before workers start) ----
  // One shard per writer thread: the workers by default; a family recorded by
  // a single background thread (the quality pipeline) has `writers` = 1.
  template <std::size_t N>
  Counter<N> counter(FamilySpec spec, unsigned writers = 0) {
    auto& f = declare(std::move(spec), Kind::Counter, N);
    for (unsigned w = 0, n = writers ? writers : workers_; w < n; ++w) f.counters.emplace_back(f.size);
    return Counter<N>(&f.counters, Layout<N>(f.spec.dims));
  }
  template <std::size_t N>
  Gauge<N> gauge(FamilySpec spec, unsigned writers = 0) {
    auto& f = declare(std::move(spec), Kind::Gauge, N);
    for (unsigned w = 0, n = writers ? writers : workers_; w < n; ++w) f.gauges.emplace_back(f.size);
    return Gauge<N>(&f.gauges, Layout<N>(f.spec.dims));
  }
  template <std::size_t N>
  Histogram<N> histogram(FamilySpec spec, std::shared_ptr<const std::vector<double>> bounds, unsigned writers = 0) {
    auto& f = declare(std::move(spec), Kind::Histogram, N);
    for (unsigned w = 0, n = writers ? writers : workers_; w < n; ++w) f.histograms.emplace_back(f.size, bounds);
    return Histogram<N>(&f.histograms, Layout<N>(f.spec.dims));
  }
  // A family whose values live elsewhere (thread-safe to read), read at scrape.
  using ValueAt = std::function<double(std::span<const std::uint32_t> at)>;
  void counterFrom(FamilySpec spec, ValueAt value);
  void gaugeFrom(FamilySpec spec, ValueAt value);
  // Runs at the start of each scrape: a snapshot the value functions then read.
  void beforeScrape(std::function<void()> snapshot) { snapshots_.push_back(std::move(snapshot)); }
  // An info family: one series, always 1, whose labels `labels` gives at each
  // scrape (the admin thread). One series at a time: bounded whatever the values.
  using InfoLabels = std::function<std::vector<std::pair<std::string, std::string>>()>;
  void infoFrom(std::string name, std::string help, InfoLabels labels) {
    infos_.push_back({std::move(name), std::move(help), std::move(labels)});
  }

  // ---- exposition (the admin thread) ----
  std::vector<prometheus::MetricFamily> Collect() const override;
  std::string scrape() const;  // the text format served on /metrics

 private:
  enum class Kind : std::uint8_t { Counter, Gauge, Histogram };
  struct Family {
    Family(FamilySpec s, Kind k) : spec(std::move(s)), kind(k) {}
    FamilySpec spec;
    Kind kind;
    std::size_t size = 1;
    std::vector<CounterArray> counters;      // per worker
    std::vector<GaugeArray> gauges;          // per worker
    std::vector<HistogramArray> histograms;  // per worker
    ValueAt value;                           // kept elsewhere: read at scrape
  };
  Family& declare(FamilySpec spec, Kind kind, std::size_t dims);
  void collectFamily(const Family& f, std::vector<prometheus::MetricFamily>& out) const;
  void fillValue(const Family& f, std::size_t index, std::span<const std::uint32_t> at,
                 prometheus::ClientMetric& m, bool& nonZero) const;

  struct Info {
    std::string name, help;
    InfoLabels labels;
  };
  std::vector<Info> infos_;
  unsigned workers_;
  std::vector<std::unique_ptr<Family>> families_;  // in declaration order; addresses stay put
  std::vector<std::function<void()>> snapshots_;
};

}  // namespace infergate::metrics
