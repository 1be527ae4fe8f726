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
// Goodness of fit of `observed` counts to known shares (floored at 1e-4); bins
// empty in both are left out. For a reference that is itself a sample (a
// learnt baseline), use chiSquareHomogeneity.
ChiSquare chiSquare(const std::vector<double>& baseline, const std::vector<std::uint64_t>& observed);

// Two-sample chi-square test of homogeneity: are two count vectors over the
// same bins draws from one distribution? Both samples' sizes enter (a
// 1,000-request baseline is not treated as the exact distribution). Sparse
// bins are merged first, by a stated rule: adjacent bins (in bin order) are
// pooled until each group's expected count is at least kMinExpected in both
// samples (Cochran's rule); a short tail joins the last group. Bins empty in
// both are left out. Fewer than two groups: no test (p = 1, 0 dof).
inline constexpr double kMinExpected = 5.0;
ChiSquare chiSquareHomogeneity(const std::vector<std::uint64_t>& baseline, const std::vector<std::uint64_t>& window);

// What PSI and KS read on unchanged traffic, for these sample sizes: their
// 95th percentiles under the null hypothesis. PSI is asymptotically
// (1/n + 1/m) times a chi-square with (bins - 1) degrees of freedom, so it
// grows as the window shrinks; KS uses the two-sample critical value
// 1.358 * sqrt((n + m) / (n m)) (conservative on binned data).
double psiNull95(unsigned nonEmptyBins, std::uint64_t n, std::uint64_t m);
double ksNull95(std::uint64_t n, std::uint64_t m);

// x such that chiSquareSurvival(x, dof) = p (bisection).
double chiSquareQuantileAbove(double p, unsigned dof);

// P(X >= x) for X ~ chi-square(dof): the regularized upper incomplete gamma Q(dof/2, x/2).
double chiSquareSurvival(double x, unsigned dof);

}  // namespace infergate::profile
