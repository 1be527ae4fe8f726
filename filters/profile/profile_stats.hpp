#pragma once
// The profile filter's families: requests by input feature bin and model (the
// distributions behind drift detection, fleet-wide in Prometheus and read by
// the drift monitor here), their cumulative form for ordered features, and
// anomalies by the first feature outside the baseline.
#include "filters/profile/features.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::profile {

struct ProfileStats {
  ProfileStats(metrics::StatsRegistry& registry, const metrics::LabelSpace& labels, const BinSpec& bins);
  ProfileStats(const ProfileStats&) = delete;  // its cumulative family refers to this object
  ProfileStats& operator=(const ProfileStats&) = delete;

  metrics::Counter<3> featureBins;  // feature, model, bin
  metrics::Counter<2> anomalies;    // model, feature
  // Multivariate (half-space forest): each scored request's score, and those
  // at or above drift.multivariate.threshold.
  metrics::Histogram<1> anomalyScore;          // model
  metrics::Counter<1> multivariateAnomalies;   // model
};

}  // namespace infergate::profile
