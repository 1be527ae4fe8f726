#pragma once
// What the gateway remembers of its samples: the most recent ones in full (for
// GET /admin/samples), a larger index of recent sampled request ids with their
// verdicts (for POST /v1/feedback), and the last labelled ids (for precision
// and recall of each scorer and the judge against human labels). One mutex:
// it is taken per sampled request and per feedback, never per request.
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filters/quality/feedback_stats.hpp"
#include "filters/quality/output_flags.hpp"
#include "filters/quality/output_sample.hpp"

namespace infergate {

class SampleStore {
 public:
  SampleStore(unsigned memory, unsigned remember, unsigned window);

  // A sampled request id accepts feedback from now on (before it is scored).
  void reserve(std::string_view requestId, std::uint32_t model, std::uint32_t key = 0);
  void stored(std::shared_ptr<StoredSample> sample);  // scored (and redacted)
  void judged(std::string_view requestId, JudgeResult result, int score, bool bad);

  // Records a human label. Returns the sample's model label index, or nothing
  // when the id is unknown (never sampled, or forgotten).
  std::optional<std::uint32_t> feedback(std::string_view requestId, bool bad, std::optional<std::uint32_t> key);

  // Copies of the most recent samples, newest first; `flag` filters when set.
  std::vector<StoredSample> recent(std::size_t limit, std::optional<quality::OutputFlag> flag) const;

  struct Detector {
    std::string name;  // a flag name, "any_flag" or "judge"
    quality::Agreement agreement;
  };
  // Agreement of each detector's "bad" verdict with the labelled window.
  std::vector<Detector> agreement() const;
  std::size_t labelled() const;
  StoredSample copyOf(const StoredSample& sample) const;  // under the mutex

 private:
  struct Entry {
    std::uint32_t model = 0;
    std::uint32_t key = 0;  // the client key's label index (0 = none)
    bool scored = false;
    std::uint32_t flags = 0;
    std::optional<bool> judgeBad;
    std::optional<bool> humanBad;
    std::weak_ptr<StoredSample> sample;
  };
  void evict();  // mutex held

  mutable std::mutex mutex_;
  unsigned memory_, remember_, window_;
  std::deque<std::shared_ptr<StoredSample>> recent_;   // newest at the back
  std::unordered_map<std::string, Entry> index_;
  std::deque<std::string> order_;                      // index insertion order
  std::deque<std::string> labelled_;                   // ids with a human label, oldest first
};

}  // namespace infergate
