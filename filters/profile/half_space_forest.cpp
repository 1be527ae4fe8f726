#include "filters/profile/half_space_forest.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace infergate::profile {

const std::array<const char*, kVectorDims> kVectorDimNames = {
    "prompt_chars", "system_chars", "last_user_chars", "messages", "max_tokens",
    "temperature",  "top_p",        "tools",           "non_ascii_share"};

namespace {
// log2(1 + x) over the range a feature takes in practice, clamped to [0, 1].
float logScaled(double x, double bits) { return static_cast<float>(std::min(1.0, std::log2(1.0 + x) / bits)); }
float clamped(double x) { return static_cast<float>(std::clamp(x, 0.0, 1.0)); }
}  // namespace

FeatureVector vectorOf(const RequestFacts& f) {
  return {
      logScaled(static_cast<double>(f.promptChars), 24),     // up to 16 M code points
      logScaled(static_cast<double>(f.systemChars), 24),
      logScaled(static_cast<double>(f.lastUserChars), 24),
      logScaled(f.messages, 12),                               // up to 4,096 messages
      f.hasMaxTokens ? logScaled(static_cast<double>(f.maxTokens), 20) : 1.0f,  // absent: unbounded
      f.hasTemperature ? clamped(f.temperature / 2) : 0.5f,  // absent: the usual default, 1
      f.hasTopP ? clamped(f.topP) : 1.0f,
      logScaled(f.tools, 8),
      f.sampledCodePoints ? clamped(static_cast<double>(f.sampledNonAscii) / f.sampledCodePoints) : 0.0f,
  };
}

HalfSpaceForest::HalfSpaceForest(std::size_t models, std::uint64_t seed)
    : splits_(kTrees * kNodes), published_(models), owned_(models) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<unsigned> dim(0, kVectorDims - 1);
  for (unsigned t = 0; t < kTrees; ++t) {
    // Each tree's work space: per dimension a random centre s, range
    // [s - 2 max(s, 1 - s), s + 2 max(s, 1 - s)] (covers [0, 1] whatever s).
    std::array<double, kVectorDims> lo{}, hi{};
    for (std::size_t q = 0; q < kVectorDims; ++q) {
      const double s = unit(rng), w = 2 * std::max(s, 1 - s);
      lo[q] = s - w;
      hi[q] = s + w;
    }
    // Breadth-first over the complete tree: node i's children are 2i+1, 2i+2.
    std::vector<std::array<double, kVectorDims>> nodeLo(kNodes, lo), nodeHi(kNodes, hi);
    for (unsigned i = 0; i < kNodes; ++i) {
      const unsigned d = dim(rng);
      const double value = (nodeLo[i][d] + nodeHi[i][d]) / 2;
      // Quantised like the vectors (0 .. 65534); a split at or above 1 sends
      // every value left (65535), one at or below 0 every value right (0).
      const auto q = static_cast<std::uint16_t>(value >= 1 ? 65535 : value <= 0 ? 0 : std::lround(value * 65534));
      splits_[t * kNodes + i] = pack(q, d, 0);
      const unsigned left = 2 * i + 1, right = 2 * i + 2;
      if (right >= kNodes) continue;
      nodeLo[left] = nodeLo[right] = nodeLo[i];
      nodeHi[left] = nodeHi[right] = nodeHi[i];
      nodeHi[left][d] = value;
      nodeLo[right][d] = value;
    }
  }
}

HalfSpaceForest::Quantised HalfSpaceForest::quantise(const FeatureVector& v) {
  Quantised q;
  for (std::size_t i = 0; i < kVectorDims; ++i) q[i] = static_cast<std::uint16_t>(std::lround(v[i] * 65534.0f));
  return q;
}

// HS-Trees' score: down each tree until a node holds fewer than sizeLimit
// reference requests (or a leaf), adding that node's mass times 2^depth. The
// more normal the request, the higher. `self`: a reference request's own unit
// of mass on its path, taken out when scoring it.
double HalfSpaceForest::rawScore(const std::uint32_t* nodes, std::uint32_t sizeLimit, const Quantised& q,
                                 std::uint32_t self) const {
  constexpr std::uint32_t kMassMask = (1u << kMassBits) - 1;
  // Level by level across all trees, not tree after tree: each tree's walk is
  // a chain of dependent loads, and interleaving the trees lets the CPU keep
  // their misses in flight together (1.35 -> 0.74 us a request, anomaly_score_bench).
  std::array<std::uint32_t, kTrees> at{};  // each tree's node; kDone once its walk stopped
  constexpr std::uint32_t kDone = ~0u;
  std::uint64_t score = 0;
  unsigned active = kTrees;
  for (unsigned depth = 0; active > 0; ++depth) {
    for (unsigned t = 0; t < kTrees; ++t) {
      if (at[t] == kDone) continue;
      const auto word = nodes[t * kNodes + at[t]];
      const auto mass = (word & kMassMask) - self;
      if (depth == kDepth || mass < sizeLimit) {
        score += static_cast<std::uint64_t>(mass) << depth;
        at[t] = kDone;
        --active;
        continue;
      }
      at[t] = 2 * at[t] + (q[(word >> kMassBits) & 0xf] < (word >> 16) ? 1 : 2);
    }
  }
  return static_cast<double>(score);
}

double HalfSpaceForest::anomalyScore(std::size_t model, const FeatureVector& v) const {
  const Learnt* learnt = published_[model].load(std::memory_order_acquire);
  if (learnt == nullptr) return -1;
  const double raw = rawScore(learnt->nodes.data(), learnt->sizeLimit, quantise(v), 0);
  // Rank among the reference window's scores: the share of them below.
  const auto below = std::lower_bound(learnt->ranks.begin(), learnt->ranks.end(), static_cast<float>(raw));
  return 1.0 - static_cast<double>(below - learnt->ranks.begin()) / kRanks;
}

void HalfSpaceForest::learn(std::size_t model, const std::vector<FeatureVector>& all) {
  if (all.empty()) return;
  // The most recent kMaxWindow requests (masses fit their 12 bits).
  const std::size_t first = all.size() > kMaxWindow ? all.size() - kMaxWindow : 0;
  std::vector<Quantised> window;
  window.reserve(all.size() - first);
  for (std::size_t i = first; i < all.size(); ++i) window.push_back(quantise(all[i]));
  auto learnt = std::make_unique<Learnt>();
  learnt->nodes = splits_;
  for (const auto& q : window)
    for (unsigned t = 0; t < kTrees; ++t) {
      std::uint32_t* tree = &learnt->nodes[t * kNodes];
      unsigned node = 0;
      for (unsigned depth = 0;; ++depth) {
        ++tree[node];  // the mass is the word's low bits
        if (depth == kDepth) break;
        const auto word = tree[node];
        node = 2 * node + (q[(word >> kMassBits) & 0xf] < (word >> 16) ? 1 : 2);
      }
    }
  learnt->sizeLimit = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(window.size() * kSizeLimitShare));

  // Each reference request is scored without itself (its own unit of mass on
  // its path taken out), as a new request would be: in-sample scores would
  // rank every new request in a sparse region below all of them.
  std::vector<double> scores;
  scores.reserve(window.size());
  for (const auto& q : window) scores.push_back(rawScore(learnt->nodes.data(), learnt->sizeLimit, q, 1));
  std::sort(scores.begin(), scores.end());
  for (unsigned k = 0; k < kRanks; ++k)
    learnt->ranks[k] = static_cast<float>(scores[std::min(scores.size() - 1, k * scores.size() / kRanks)]);

  auto& owned = owned_[model];
  owned[1] = std::move(owned[0]);
  owned[0] = std::move(learnt);
  published_[model].store(owned[0].get(), std::memory_order_release);
}

}  // namespace infergate::profile
