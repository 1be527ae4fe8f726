#include "gateway/sampling/sample_store.hpp"

#include <algorithm>

namespace infergate {

SampleStore::SampleStore(unsigned memory, unsigned remember, unsigned window)
    : memory_(memory), remember_(std::max(remember, memory)), window_(window) {}

void SampleStore::reserve(std::string_view requestId, std::uint32_t model, std::uint32_t key) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = index_.try_emplace(std::string(requestId));
  it->second = Entry{};
  it->second.model = model;
  it->second.key = key;
  if (inserted) order_.push_back(it->first);
  evict();
}

void SampleStore::evict() {
  while (order_.size() > remember_) {
    index_.erase(order_.front());
    order_.pop_front();
  }
}

void SampleStore::stored(std::shared_ptr<StoredSample> sample) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(sample->requestId);
  if (it != index_.end()) {
    it->second.scored = sample->scored;
    it->second.flags = sample->report.flags;
    it->second.sample = sample;
    sample->humanBad = it->second.humanBad;  // feedback may have come first
  }
  recent_.push_back(std::move(sample));
  while (recent_.size() > memory_) recent_.pop_front();
}

void SampleStore::judged(std::string_view requestId, JudgeResult result, int score, bool bad) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(std::string(requestId));
  if (it == index_.end()) return;
  if (result == JudgeResult::Ok) it->second.judgeBad = bad;
  if (auto sample = it->second.sample.lock()) {
    sample->judge = result;
    sample->judgeScore = score;
  }
}

std::optional<std::uint32_t> SampleStore::feedback(std::string_view requestId, bool bad,
                                                  std::optional<std::uint32_t> key) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(std::string(requestId));
  if (it == index_.end()) return std::nullopt;
  if (key && it->second.key != *key) return std::nullopt;  // another key's request: not this client's to label
  const bool first = !it->second.humanBad.has_value();
  it->second.humanBad = bad;
  if (auto sample = it->second.sample.lock()) sample->humanBad = bad;
  if (first) {
    labelled_.push_back(it->first);
    while (labelled_.size() > window_) labelled_.pop_front();
  }
  return it->second.model;
}

std::vector<StoredSample> SampleStore::recent(std::size_t limit, std::optional<quality::OutputFlag> flag) const {
  std::lock_guard lock(mutex_);
  std::vector<StoredSample> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it)
    if (!flag || (*it)->report.has(*flag)) out.push_back(**it);
  return out;
}

std::vector<SampleStore::Detector> SampleStore::agreement() const {
  std::vector<Detector> out;
  for (std::size_t f = 0; f < quality::kFlagCount; ++f) out.push_back({std::string(quality::kFlagNames[f]), {}});
  out.push_back({"any_flag", {}});
  out.push_back({"judge", {}});
  std::lock_guard lock(mutex_);
  for (const auto& id : labelled_) {
    auto it = index_.find(id);
    if (it == index_.end() || !it->second.humanBad) continue;
    const auto& e = it->second;
    if (e.scored) {
      for (std::size_t f = 0; f < quality::kFlagCount; ++f)
        out[f].agreement.add((e.flags & (1u << f)) != 0, *e.humanBad);
      out[quality::kFlagCount].agreement.add(e.flags != 0, *e.humanBad);
    }
    if (e.judgeBad) out[quality::kFlagCount + 1].agreement.add(*e.judgeBad, *e.humanBad);
  }
  return out;
}

StoredSample SampleStore::copyOf(const StoredSample& sample) const {
  std::lock_guard lock(mutex_);
  return sample;
}

std::size_t SampleStore::labelled() const {
  std::lock_guard lock(mutex_);
  return labelled_.size();
}

}  // namespace infergate
