#include "config/histogram_ladder.hpp"

#include <cmath>

#include "config/config.hpp"

namespace infergate::config {

namespace {
double fourSignificantDigits(double v) {
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(v)));
  return std::round(v * scale) / scale;
}
}  // namespace

std::vector<double> geometricBounds(double lo, double hi, unsigned perOctave) {
  std::vector<double> bounds;
  const double step = std::pow(2.0, 1.0 / perOctave);
  for (double v = lo;; v *= step) {
    const double rounded = fourSignificantDigits(v);
    if (bounds.empty() || rounded > bounds.back()) bounds.push_back(rounded);
    if (v >= hi * (1 - 1e-9)) break;
  }
  return bounds;
}

double ladderRelativeError(unsigned perOctave) { return std::pow(2.0, 1.0 / perOctave) - 1; }

void HistogramBuckets::useLadders(unsigned perOctave) {
  per_octave = perOctave;
  std::vector<double>* all[] = {&request_duration,    &upstream_connect,      &upstream_first_byte, &time_to_first_token,
                                &inter_token_latency, &time_per_output_token, &gateway_overhead};
  for (std::size_t i = 0; i < 7; ++i) *all[i] = geometricBounds(kRanges[i][0], kRanges[i][1], perOctave);
}

}  // namespace infergate::config
