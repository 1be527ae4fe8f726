#include "gateway/upstream/circuit_breaker.hpp"

#include <algorithm>

namespace infergate {

bool EjectionBudget::tryEject() {
  // As in Envoy, one endpoint may always be ejected, whatever the percentage:
  // a single-endpoint backend still trips, and then fails fast with 503.
  const unsigned allowed =
      std::max(1u, endpoints_.load(std::memory_order_relaxed) * maxPercent_.load(std::memory_order_relaxed) / 100);
  unsigned current = ejected_.load(std::memory_order_relaxed);
  while (current < allowed)
    if (ejected_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) return true;
  return false;
}

CircuitBreaker::CircuitBreaker(const config::CircuitBreakerConfig& config, NowNs now, EjectionBudget* budget,
                               std::uint64_t seed)
    : now_(std::move(now)), budget_(budget), rng_(seed | 1) {
  reconfigure(config);
  slotNs_ = std::max<std::int64_t>(1'000'000'000, tuning_.windowNs.load() / static_cast<std::int64_t>(kSlots));
}

void CircuitBreaker::reconfigure(const config::CircuitBreakerConfig& c) {
  const auto ns = [](auto d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); };
  tuning_.consecutiveFailures.store(c.consecutive_failures, std::memory_order_relaxed);
  tuning_.failureRate.store(c.failure_rate, std::memory_order_relaxed);
  tuning_.minRequests.store(c.min_requests, std::memory_order_relaxed);
  tuning_.halfOpenProbes.store(c.half_open_probes, std::memory_order_relaxed);
  tuning_.baseEjectionNs.store(ns(c.base_ejection), std::memory_order_relaxed);
  tuning_.maxEjectionNs.store(ns(c.max_ejection), std::memory_order_relaxed);
  tuning_.windowNs.store(ns(c.window), std::memory_order_relaxed);
}

void CircuitBreaker::detach() {
  std::lock_guard lock(transition_);
  if (state() != State::Closed) close(now_());
  budget_ = nullptr;
}

void CircuitBreaker::attach(EjectionBudget* budget) {
  std::lock_guard lock(transition_);
  budget_ = budget;
  if (budget_ != nullptr && state() != State::Closed) budget_->take();
}

bool CircuitBreaker::admissible() const {
  if (!healthy()) return false;
  switch (state()) {
    case State::Closed: return true;
    case State::Open: return now_() >= openUntil_.load(std::memory_order_relaxed);
    case State::HalfOpen:
      return probes_.load(std::memory_order_relaxed) < tuning_.halfOpenProbes.load(std::memory_order_relaxed);
  }
  return false;
}

CircuitBreaker::Admission CircuitBreaker::admit() {
  if (!healthy()) return {};
  auto s = state();
  if (s == State::Closed) return {true, false};
  if (s == State::Open) {
    if (now_() < openUntil_.load(std::memory_order_relaxed)) return {};
    std::lock_guard lock(transition_);
    if (state() == State::Open) {
      probes_.store(0, std::memory_order_relaxed);
      setState(State::HalfOpen);
    }
    s = state();
    if (s == State::Closed) return {true, false};
  }
  // Half-open: a bounded number of concurrent trial requests.
  unsigned probes = probes_.load(std::memory_order_relaxed);
  const unsigned maxProbes = tuning_.halfOpenProbes.load(std::memory_order_relaxed);
  while (probes < maxProbes)
    if (probes_.compare_exchange_weak(probes, probes + 1, std::memory_order_relaxed)) return {true, true};
  return {};
}

void CircuitBreaker::onSuccess(const Admission& a) {
  count(false);
  consecutive_.store(0, std::memory_order_relaxed);
  if (!a.probe) return;
  std::lock_guard lock(transition_);
  probes_.fetch_sub(1, std::memory_order_relaxed);
  if (state() == State::HalfOpen) close(now_());
}

void CircuitBreaker::onFailure(const Admission& a) {
  count(true);
  const auto now = now_();
  if (a.probe) {
    std::lock_guard lock(transition_);
    probes_.fetch_sub(1, std::memory_order_relaxed);
    if (state() == State::HalfOpen) open(now);
    return;
  }
  const unsigned failures = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
  const unsigned consecutiveLimit = tuning_.consecutiveFailures.load(std::memory_order_relaxed);
  const double rateLimit = tuning_.failureRate.load(std::memory_order_relaxed);
  bool trip = consecutiveLimit > 0 && failures >= consecutiveLimit;
  if (!trip && rateLimit > 0) {
    std::uint64_t ok = 0, failed = 0;
    windowTotals(ok, failed);
    const auto total = ok + failed;
    trip = total >= tuning_.minRequests.load(std::memory_order_relaxed) && total > 0 &&
           static_cast<double>(failed) / static_cast<double>(total) > rateLimit;
  }
  if (!trip || state() != State::Closed) return;
  std::lock_guard lock(transition_);
  if (state() != State::Closed) return;
  if (budget_ != nullptr && !budget_->tryEject()) {
    // Too much of the backend is out already: keep this one in service.
    consecutive_.store(0, std::memory_order_relaxed);
    return;
  }
  open(now);
}

void CircuitBreaker::onNeutral(const Admission& a) {
  if (!a.probe) return;
  probes_.fetch_sub(1, std::memory_order_relaxed);
}

void CircuitBreaker::open(std::int64_t now) {
  // n decays while the endpoint stays healthy: one step per max_ejection closed.
  const std::int64_t maxNs = tuning_.maxEjectionNs.load(std::memory_order_relaxed);
  unsigned n = ejections_.load(std::memory_order_relaxed);
  if (state() == State::Closed && n > 0 && maxNs > 0) {
    const auto decay = static_cast<unsigned>(std::min<std::int64_t>((now - lastClosedNs_) / maxNs, n));
    n -= decay;
  }
  n += 1;
  ejections_.store(n, std::memory_order_relaxed);
  const std::int64_t baseNs = tuning_.baseEjectionNs.load(std::memory_order_relaxed);
  std::int64_t ejectNs = std::min<std::int64_t>(baseNs * n, maxNs > 0 ? maxNs : baseNs * n);
  // ±10% jitter so that endpoints ejected together do not return together.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const double jitter = 0.9 + 0.2 * static_cast<double>(rng_ % 10001) / 10000.0;
  ejectNs = static_cast<std::int64_t>(static_cast<double>(ejectNs) * jitter);
  openUntil_.store(now + ejectNs, std::memory_order_relaxed);
  consecutive_.store(0, std::memory_order_relaxed);
  setState(State::Open);
}

void CircuitBreaker::close(std::int64_t now) {
  lastClosedNs_ = now;
  consecutive_.store(0, std::memory_order_relaxed);
  for (auto& slot : slots_) slot.second.store(-1, std::memory_order_relaxed);  // a fresh window
  if (budget_ != nullptr) budget_->release();
  setState(State::Closed);
}

void CircuitBreaker::setState(State s) {
  state_.store(s, std::memory_order_relaxed);
  transitions_[static_cast<int>(s)].fetch_add(1, std::memory_order_relaxed);
}

void CircuitBreaker::count(bool failed) {
  const std::int64_t second = now_() / slotNs_;
  auto& slot = slots_[static_cast<std::size_t>(second) % kSlots];
  if (slot.second.load(std::memory_order_relaxed) != second) {
    // A new slot: the writer that swaps it in resets its counts. A racing
    // writer may lose one count; the window is an estimate.
    auto old = slot.second.load(std::memory_order_relaxed);
    if (old != second && slot.second.compare_exchange_strong(old, second, std::memory_order_relaxed)) {
      slot.ok.store(0, std::memory_order_relaxed);
      slot.failed.store(0, std::memory_order_relaxed);
    }
  }
  (failed ? slot.failed : slot.ok).fetch_add(1, std::memory_order_relaxed);
}

void CircuitBreaker::windowTotals(std::uint64_t& ok, std::uint64_t& failed) const {
  const std::int64_t current = now_() / slotNs_;
  // A window longer than the slots cover (grown by a reload) reads what they hold.
  const std::int64_t windowSlots = std::clamp<std::int64_t>(
      tuning_.windowNs.load(std::memory_order_relaxed) / slotNs_, 1, static_cast<std::int64_t>(kSlots));
  for (const auto& slot : slots_) {
    const auto second = slot.second.load(std::memory_order_relaxed);
    if (second < 0 || current - second >= windowSlots) continue;
    ok += slot.ok.load(std::memory_order_relaxed);
    failed += slot.failed.load(std::memory_order_relaxed);
  }
}

double CircuitBreaker::recentFailureRate() const {
  std::uint64_t ok = 0, failed = 0;
  windowTotals(ok, failed);
  return ok + failed == 0 ? 0.0 : static_cast<double>(failed) / static_cast<double>(ok + failed);
}

}  // namespace infergate
