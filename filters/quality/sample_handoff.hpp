#pragma once
// Where the sampling filter hands sampled exchanges over: the quality pipeline
// (gateway/sampling), which scores them off the request path. An interface so
// that the filter layer does not depend on the gateway.
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "filters/quality/output_sample.hpp"

namespace infergate {

class SampleHandoff {
 public:
  virtual ~SampleHandoff() = default;
  // ---- any worker thread ----
  virtual const config::SamplingConfig& config() const = 0;
  // Takes one sample from the budget; false (and counted) when it is spent.
  virtual bool admit() = 0;
  // Queues a sample for scoring; drops and counts it when the queue is full.
  virtual void offer(std::unique_ptr<OutputSample> sample) = 0;
  // A human label for a sampled request; its model's label index, or nothing
  // for an unknown id. With `key` (the labelling client's key label index),
  // only that key's own requests can be labelled; others are unknown to it.
  virtual std::optional<std::uint32_t> feedback(std::string_view requestId, bool bad,
                                                std::optional<std::uint32_t> key = std::nullopt) = 0;
};

}  // namespace infergate
