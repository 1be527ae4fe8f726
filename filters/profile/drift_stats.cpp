#include "filters/profile/drift_stats.hpp"

#include <algorithm>
#include <cmath>

namespace infergate::profile {

namespace {
constexpr double kFloor = 1e-4;

// Regularized lower incomplete gamma P(a, x) by its series (x < a + 1).
double gammaSeries(double a, double x) {
  double sum = 1.0 / a, term = sum;
  for (int n = 1; n < 1000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-15) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularized upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1), modified Lentz.
double gammaContinuedFraction(double a, double x) {
  constexpr double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-15) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}
}  // namespace

std::vector<double> shares(const std::vector<std::uint64_t>& counts) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  std::vector<double> out(counts.size(), 0.0);
  if (total == 0) return out;
  for (std::size_t i = 0; i < counts.size(); ++i) out[i] = static_cast<double>(counts[i]) / static_cast<double>(total);
  return out;
}

double psi(const std::vector<double>& baseline, const std::vector<double>& current) {
  double sum = 0;
  for (std::size_t i = 0; i < baseline.size(); ++i) {
    const double b = std::max(baseline[i], kFloor), c = std::max(current[i], kFloor);
    sum += (c - b) * std::log(c / b);
  }
  return sum;
}

double ksDistance(const std::vector<double>& baseline, const std::vector<double>& current) {
  double cb = 0, cc = 0, d = 0;
  for (std::size_t i = 0; i < baseline.size(); ++i) {
    cb += baseline[i];
    cc += current[i];
    d = std::max(d, std::fabs(cb - cc));
  }
  return d;
}

ChiSquare chiSquare(const std::vector<double>& baseline, const std::vector<std::uint64_t>& observed) {
  ChiSquare result;
  std::uint64_t total = 0;
  for (auto o : observed) total += o;
  if (total == 0) return result;
  unsigned bins = 0;
  for (std::size_t i = 0; i < baseline.size(); ++i) {
    if (baseline[i] <= 0 && observed[i] == 0) continue;
    ++bins;
    const double expected = std::max(baseline[i], kFloor) * static_cast<double>(total);
    const double diff = static_cast<double>(observed[i]) - expected;
    result.statistic += diff * diff / expected;
  }
  result.degreesOfFreedom = bins > 1 ? bins - 1 : 1;
  result.pValue = chiSquareSurvival(result.statistic, result.degreesOfFreedom);
  return result;
}

double chiSquareSurvival(double x, unsigned dof) {
  if (x <= 0) return 1;
  const double a = dof / 2.0, half = x / 2.0;
  if (half < a + 1) return 1 - gammaSeries(a, half);
  return gammaContinuedFraction(a, half);
}

}  // namespace infergate::profile
