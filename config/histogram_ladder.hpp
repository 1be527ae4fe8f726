#pragma once
// Default histogram bounds: a geometric ladder, `perOctave` bounds per
// doubling. Why: histogram_quantile interpolates linearly inside a bucket, so
// a quantile read from [a, b] may be anywhere in it; with b = a * 2^(1/k) the
// read is within 2^(1/k) - 1 of the truth (9.05% at k = 8) for any value in
// the ladder's range, where decade-style bounds (0.2, 0.3, 0.5 s) read a
// constant 301 ms TTFT as p50 400 ms and p99 498 ms. Below the first bound the
// read may be off by up to 100%, above the last it is the last bound: each
// ladder spans the values its histogram sees in practice.
#include <vector>

namespace infergate::config {

inline constexpr unsigned kDefaultBucketsPerOctave = 8;

// lo, lo * 2^(1/perOctave), ... up to the first bound at or above hi; each
// rounded to 4 significant digits (readable `le` labels; a ratio moves by at
// most 0.1%, so the bound below is 9.1% rather than 9.05% at k = 8).
std::vector<double> geometricBounds(double lo, double hi, unsigned perOctave = kDefaultBucketsPerOctave);

// The worst relative error of a quantile read from such a ladder.
double ladderRelativeError(unsigned perOctave);

}  // namespace infergate::config
