#pragma once
// Multivariate input anomalies: Half-Space Trees (Tan, Ting and Liu, "Fast
// Anomaly Detection for Streaming Data", IJCAI 2011) over each request's
// numeric feature vector, per model.
//
// Why: the per-feature rule (BaselineView) flags a request whose value in one
// feature its model never saw. A request ordinary in every feature can still be
// unusual as a whole (a long system prompt, max_tokens 5 and temperature 2,
// for a model whose traffic never combines them). Half-space trees split the
// unit cube at random dimensions and midpoints, independently of the data, and
// learn only how many reference requests fall in each node; a request landing
// in nodes few requests reached is unusual. Scoring is a walk down each tree
// with no arithmetic beyond a compare and an add, and the model is a fixed
// array, so the worker pays about a microsecond and takes no lock.
//
// Roles: the structure is built once (shared by every model); the control
// thread learns each model's node masses from request vectors handed over by
// the workers (VectorQueue) and publishes them, with the score distribution of
// the reference window that turns a raw score into a rank; workers read both
// with relaxed loads, as BaselineView does.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "filters/core/request_facts.hpp"

namespace infergate::profile {

// The numeric view of a request, each coordinate in [0, 1].
inline constexpr std::size_t kVectorDims = 9;
using FeatureVector = std::array<float, kVectorDims>;
FeatureVector vectorOf(const RequestFacts& facts);
// Names of the coordinates, for reports.
extern const std::array<const char*, kVectorDims> kVectorDimNames;

class HalfSpaceForest {
 public:
  static constexpr unsigned kTrees = 20;
  static constexpr unsigned kDepth = 12;  // leaves at depth 12: 8,191 nodes a tree (32 KiB of masses)
  static constexpr unsigned kNodes = (1u << (kDepth + 1)) - 1;
  static constexpr unsigned kRanks = 512;  // resolution of the score's rank
  static constexpr double kSizeLimitShare = 0.1;  // a walk stops at nodes holding less of the reference

  // `models` label indexes; the structure depends only on `seed`.
  HalfSpaceForest(std::size_t models, std::uint64_t seed = 0x5eed);

  // Workers: how unusual `v` is for `model`, in [0, 1]: the share of the
  // model's reference requests that scored as more normal. Negative while the
  // model has no reference yet.
  double anomalyScore(std::size_t model, const FeatureVector& v) const;

  // Control thread: learns `model`'s masses from `window` (its reference
  // requests; at most kMaxWindow are used) and publishes them with the
  // window's own score ranks.
  static constexpr std::size_t kMaxWindow = 4095;
  void learn(std::size_t model, const std::vector<FeatureVector>& window);
  bool ready(std::size_t model) const { return published_[model].load(std::memory_order_acquire) != nullptr; }

 private:
  // A node in one 32-bit word, so that a walk reads one cache line a level
  // (measured: 60 ns a tree with separate split and mass arrays): the split
  // value quantised to 16 bits, the split dimension, and the node's mass.
  static constexpr unsigned kMassBits = 12;  // masses up to kMaxWindow
  static std::uint32_t pack(std::uint16_t value, unsigned dim, std::uint32_t mass) {
    return static_cast<std::uint32_t>(value) << 16 | dim << kMassBits | mass;
  }
  using Quantised = std::array<std::uint16_t, kVectorDims>;
  static Quantised quantise(const FeatureVector& v);
  double rawScore(const std::uint32_t* nodes, std::uint32_t sizeLimit, const Quantised& q, std::uint32_t self) const;

  // One model's learnt forest: immutable once published. Allocated only for
  // models that have a baseline (655 KiB each); a re-learnt model replaces
  // the published one, and the one before is kept until the next re-learn
  // (a worker holds a pointer for the microsecond of one score; re-learns
  // are an evaluation interval apart at least).
  struct Learnt {
    std::vector<std::uint32_t> nodes;      // [tree][node]: packed with the masses
    std::array<float, kRanks> ranks{};     // raw score at rank k / kRanks, ascending
    std::uint32_t sizeLimit = 1;           // a walk stops at nodes holding fewer
  };
  std::vector<std::uint32_t> splits_;  // [tree * kNodes + node]: packed with mass 0
  std::vector<std::atomic<const Learnt*>> published_;
  std::vector<std::array<std::unique_ptr<Learnt>, 2>> owned_;  // current and previous, per model
};

}  // namespace infergate::profile
