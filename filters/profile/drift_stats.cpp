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

ChiSquare chiSquareHomogeneity(const std::vector<std::uint64_t>& baseline, const std::vector<std::uint64_t>& window) {
  ChiSquare result;
  double n = 0, m = 0;
  for (auto b : baseline) n += static_cast<double>(b);
  for (auto w : window) m += static_cast<double>(w);
  if (n == 0 || m == 0) return result;
  const double total = n + m;
  // A group's column total c gives expected counts c*n/total and c*m/total:
  // both reach kMinExpected once c >= kMinExpected * total / min(n, m).
  const double minColumn = kMinExpected * total / std::min(n, m);
  struct Group {
    double b = 0, w = 0;
  };
  std::vector<Group> groups;
  Group open;
  for (std::size_t i = 0; i < baseline.size() && i < window.size(); ++i) {
    open.b += static_cast<double>(baseline[i]);
    open.w += static_cast<double>(window[i]);
    if (open.b + open.w >= minColumn) {
      groups.push_back(open);
      open = {};
    }
  }
  if (open.b + open.w > 0) {
    if (groups.empty()) groups.push_back(open);
    else {
      groups.back().b += open.b;
      groups.back().w += open.w;
    }
  }
  if (groups.size() < 2) return result;
  for (const auto& g : groups) {
    const double column = g.b + g.w;
    const double eb = column * n / total, ew = column * m / total;
    result.statistic += (g.b - eb) * (g.b - eb) / eb + (g.w - ew) * (g.w - ew) / ew;
  }
  result.degreesOfFreedom = static_cast<unsigned>(groups.size() - 1);
  result.pValue = chiSquareSurvival(result.statistic, result.degreesOfFreedom);
  return result;
}

double chiSquareQuantileAbove(double p, unsigned dof) {
  double lo = 0, hi = std::max(10.0, 10.0 * dof);
  while (chiSquareSurvival(hi, dof) > p) hi *= 2;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (chiSquareSurvival(mid, dof) > p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double psiNull95(unsigned nonEmptyBins, std::uint64_t n, std::uint64_t m) {
  if (nonEmptyBins < 2 || n == 0 || m == 0) return 0;
  return chiSquareQuantileAbove(0.05, nonEmptyBins - 1) * (1.0 / static_cast<double>(n) + 1.0 / static_cast<double>(m));
}

double ksNull95(std::uint64_t n, std::uint64_t m) {
  if (n == 0 || m == 0) return 1;
  const double a = static_cast<double>(n), b = static_cast<double>(m);
  return 1.358 * std::sqrt((a + b) / (a * b));
}

double chiSquareSurvival(double x, unsigned dof) {
  if (x <= 0) return 1;
  const double a = dof / 2.0, half = x / 2.0;
  if (half < a + 1) return 1 - gammaSeries(a, half);
  return gammaContinuedFraction(a, half);
}

}  // namespace infergate::profile
