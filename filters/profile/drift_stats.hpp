#pragma once
// Distribution distance statistics for input drift, over binned counts.
#include <cstdint>
#include <vector>

namespace infergate::profile {

// Shares of each bin; all zeros when the total is zero.
std::vector<double> shares(const std::vector<std::uint64_t>& counts);

// Population stability index: sum of (c - b) * ln(c / b), shares floored at 1e-4.
double psi(const std::vector<double>& baseline, const std::vector<double>& current);

// Kolmogorov-Smirnov D on the binned CDFs (ordered features).
double ksDistance(const std::vector<double>& baseline, const std::vector<double>& current);

struct ChiSquare {
  double statistic = 0;
  unsigned degreesOfFreedom = 0;
  double pValue = 1;
};
// Goodness of fit of `observed` counts to the baseline shares (floored at 1e-4);
// bins empty in both are left out.
ChiSquare chiSquare(const std::vector<double>& baseline, const std::vector<std::uint64_t>& observed);

// P(X >= x) for X ~ chi-square(dof): the regularized upper incomplete gamma Q(dof/2, x/2).
double chiSquareSurvival(double x, unsigned dof);

}  // namespace infergate::profile
