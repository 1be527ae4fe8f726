#pragma once
// Every filter instance of a resolved config and the chains that run them:
// one before routing (the gateway's own endpoints), one per route, and one for
// requests no route takes. Built once at start from a list of registrations;
// shared read-only by all workers.
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "filters/filter_chain.hpp"
#include "filters/profile/baseline_view.hpp"
#include "filters/profile/features.hpp"
#include "filters/profile/profile_stats.hpp"
#include "filters/profile/vector_queue.hpp"
#include "filters/auth/key_directory.hpp"
#include "filters/worker_services.hpp"
#include "filters/request_metrics/request_stats.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class AccessLog;
class SampleHandoff;

// What filters are built from: the config, where they declare their
// statistics, and the shared services some use.
struct FilterDependencies {
  const config::Config& config;
  metrics::StatsRegistry& stats;
  const metrics::LabelSpace& labels;
  const profile::BinSpec& bins;                     // input feature bins
  const profile::ProfileStats& profileStats;        // shared with the drift monitor
  const profile::BaselineView* baseline = nullptr;  // drift baselines (anomalies)
  const profile::HalfSpaceForest* forest = nullptr; // multivariate anomalies, when on
  profile::VectorQueue* vectors = nullptr;          // request vectors for the forest's learning
  SampleHandoff* samples = nullptr;                 // output sampling, when on
  AccessLog* accessLog = nullptr;                   // when on
  const metrics::RequestStats* requestStats = nullptr;  // when metrics are on
  WorkerServices* workerServices = nullptr;         // set by the FilterSet: per-worker services to start
  auth::KeyDirectory* keys = nullptr;               // with an auth section (the FilterSet makes one if not given)
  std::uint64_t generation = 1;                     // which config: a reload's filter set has a new one
};

// Where a filter is built for: a route (config order), or no route (`route` null).
struct RouteScope {
  const config::RouteConfig* route = nullptr;
  std::size_t index = 0;
};

struct FilterRegistration {
  enum class Stage : std::uint8_t {
    BeforeRouting,  // every request, before its route is chosen; onRequest only
    Route,          // per route, and for requests no route takes
  };
  std::string_view name;
  Stage stage = Stage::Route;
  // The filter for this scope, or null when its feature is off there.
  std::function<std::unique_ptr<Filter>(const FilterDependencies&, const RouteScope&)> build;
};

class FilterSet {
 public:
  FilterSet(const FilterDependencies& deps, const std::vector<FilterRegistration>& registrations);

  const FilterChain& beforeRouting() const { return beforeRouting_; }
  const FilterChain& route(std::size_t index) const { return routes_[index]; }
  const FilterChain& unrouted() const { return unrouted_; }
  // Lays out a connection's per-request filter state for these filters.
  void buildStates(FilterStates& states) const;
  // What the filters keep per worker; on the worker's thread as it starts.
  std::vector<std::unique_ptr<WorkerService>> startWorker(unsigned worker, boost::asio::io_context& io) const {
    return workerServices_.start(worker, io);
  }

 private:
  void build(const FilterDependencies& deps, const FilterRegistration& registration, const RouteScope& scope,
             FilterChain& chain);

  WorkerServices workerServices_;
  std::unique_ptr<auth::KeyDirectory> ownedKeys_;  // when the caller gave none
  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<FilterStates::Slot> slots_;
  std::size_t stateSize_ = 0;
  FilterChain beforeRouting_;
  std::vector<FilterChain> routes_;
  FilterChain unrouted_;
};

}  // namespace infergate
