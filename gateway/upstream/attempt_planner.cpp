#include "gateway/upstream/attempt_planner.hpp"

#include <algorithm>
#include <limits>

namespace infergate {

namespace {
// Failures an endpoint shows in answer to a request, which a request can cause
// (an oversized head reset by the server, a prompt it cannot serve in time).
// Connect errors and timeouts happen before the request is seen: local-origin,
// always the endpoint's. Statuses (5xx) are the server's own verdict and count
// at once, as the retry on a status relies on.
bool mayBeTheRequests(FailureCause cause) {
  switch (cause) {
    case FailureCause::UpstreamReset:
    case FailureCause::UpstreamProtocolError:
    case FailureCause::UpstreamFirstTokenTimeout:
    case FailureCause::UpstreamIdleTimeout:
      return true;
    default:
      return false;
  }
}
}  // namespace

void AttemptPlanner::begin(const Runtime& runtime, const config::RouteConfig& route, std::uint64_t affinity) {
  runtime_ = &runtime;
  affinity_ = affinity;
  route_ = &route;
  endpoint_ = nullptr;
  attempt_ = 0;
  heldCount_ = 0;
  backendCursor_ = 0;
  slotBackend_ = -1;
  attemptOpen_ = false;
  lastCause_ = FailureCause::None;
  tried_.clear();
}

std::size_t AttemptPlanner::backendAt(std::size_t cursor) const {
  return cursor == 0 ? route_->backend_index : route_->fallback_indexes[cursor - 1];
}

// max_in_flight: a slot on a backend is held for as long as the request uses it.
bool AttemptPlanner::holdSlot(std::size_t backend) {
  if (slotBackend_ == static_cast<std::int64_t>(backend)) return true;
  releaseSlot();
  if (!up_.cluster.backend(backend).slots.tryAcquire()) return false;
  slotBackend_ = static_cast<std::int64_t>(backend);
  return true;
}

void AttemptPlanner::releaseSlot() {
  if (slotBackend_ < 0) return;
  up_.cluster.backend(static_cast<std::size_t>(slotBackend_)).slots.release();
  slotBackend_ = -1;
}

void AttemptPlanner::adoptPrimarySlot() {
  releaseSlot();
  slotBackend_ = static_cast<std::int64_t>(route_->backend_index);
  backendCursor_ = 0;
}

void AttemptPlanner::countOverflow() {
  up_.cluster.backend(route_->backend_index).overflow.fetch_add(1, std::memory_order_relaxed);
}

// Every endpoint of `backend` says (fresh signals) its queue or KV cache is
// over the shedding bounds: a request sent there would wait behind them and
// miss its first token anyway. An endpoint whose load is unknown is not over.
bool AttemptPlanner::shedding(std::size_t backend) const {
  const auto& b = runtime_->backends[backend];
  const auto& bounds = b.config->signals;
  if (!bounds.enabled || (bounds.shed_waiting == 0 && bounds.shed_kv_cache <= 0) || b.endpoints.empty()) return false;
  const auto now = ClusterState::steadyNowNs();
  for (const auto& e : b.endpoints) {
    const auto& s = up_.cluster.endpoint(e.id).signals;
    if (!s.fresh(now)) return false;
    const bool over = (bounds.shed_waiting > 0 && s.waiting.load(std::memory_order_relaxed) > bounds.shed_waiting) ||
                      (bounds.shed_kv_cache > 0 && s.kvCacheUsage.load(std::memory_order_relaxed) > bounds.shed_kv_cache);
    if (!over) return false;
  }
  return true;
}

AttemptPlanner::Next AttemptPlanner::next() {
  bool overloaded = false, shed = false;
  for (; backendCursor_ < backendCount(); ++backendCursor_) {
    const auto b = backendAt(backendCursor_);
    if (shedding(b)) {
      up_.cluster.backend(b).shed.fetch_add(1, std::memory_order_relaxed);
      shed = true;
      continue;
    }
    if (!holdSlot(b)) {
      overloaded = true;
      continue;
    }
    auto pick = up_.picker.pick(runtime_->backends[b], b, tried_, affinity_);
    if (pick.endpoint == nullptr && attempt_ > 0 && backendCursor_ + 1 == backendCount()) {
      // Nothing new anywhere: a retry may go back to an endpoint already tried.
      tried_.clear();
      pick = up_.picker.pick(runtime_->backends[b], b, tried_, affinity_);
    }
    if (pick.endpoint != nullptr) {
      start(b, pick);
      return Next::Picked;
    }
  }
  releaseSlot();
  if (attempt_ > 0) return Next::Exhausted;
  return overloaded ? Next::Overloaded : shed ? Next::Shed : Next::CircuitOpen;
}

void AttemptPlanner::start(std::size_t backend, const Pick& pick) {
  if (pick.affinity != Pick::Affinity::None && up_.countMetrics)
    up_.stats.prefixAffinity.add(up_.worker, {metrics::LabelSpace::backendIndex(backend),
                                              pick.affinity == Pick::Affinity::Kept ? UpstreamStats::kAffinityKept
                                                                                    : UpstreamStats::kAffinityMoved});
  backendIndex_ = backend;
  endpoint_ = pick.endpoint;
  admission_ = pick.admission;
  attemptOpen_ = true;
  tried_.add(endpoint_->id);
  up_.cluster.endpoint(endpoint_->id).inFlight.fetch_add(1, std::memory_order_relaxed);
  if (attempt_ > 0) up_.cluster.backend(backend).retriesInFlight.fetch_add(1, std::memory_order_relaxed);
}

void AttemptPlanner::endAttempt(Verdict verdict, FailureCause cause) {
  if (!attemptOpen_) return;
  attemptOpen_ = false;
  auto& endpoint = up_.cluster.endpoint(endpoint_->id);
  endpoint.inFlight.fetch_sub(1, std::memory_order_relaxed);
  if (attempt_ > 0) up_.cluster.backend(backendIndex_).retriesInFlight.fetch_sub(1, std::memory_order_relaxed);
  if (verdict == Verdict::Failure && mayBeTheRequests(cause) && heldCount_ < kMaxHeld) {
    if (!held_) held_ = std::make_unique<std::array<HeldVerdict, kMaxHeld>>();
    (*held_)[heldCount_++] = {endpoint_->id, backendIndex_, admission_, cause};
    return;
  }
  switch (verdict) {
    case Verdict::Success: endpoint.breaker.onSuccess(admission_); break;
    case Verdict::Failure: endpoint.breaker.onFailure(admission_); break;
    case Verdict::Neutral: endpoint.breaker.onNeutral(admission_); break;
  }
}

bool AttemptPlanner::sameFailureElsewhere(FailureCause cause) const {
  for (std::size_t i = 0; i < heldCount_; ++i)
    if ((*held_)[i].cause == cause && (*held_)[i].endpointId != endpoint_->id) return true;
  return false;
}

void AttemptPlanner::settleHeldVerdicts() {
  for (std::size_t i = 0; i < heldCount_; ++i) {
    const auto& held = *held_;
    bool elsewhere = false;
    for (std::size_t j = 0; j < heldCount_; ++j)
      elsewhere |= j != i && held[j].cause == held[i].cause && held[j].endpointId != held[i].endpointId;
    auto& breaker = up_.cluster.endpoint(held[i].endpointId).breaker;
    if (elsewhere) {
      breaker.onNeutral(held[i].admission);
      up_.cluster.backend(held[i].backend).requestCausedFailures.fetch_add(1, std::memory_order_relaxed);
    } else {
      breaker.onFailure(held[i].admission);
    }
  }
  heldCount_ = 0;
}

AttemptPlanner::Verdict AttemptPlanner::verdictFor(FailureCause cause, unsigned status,
                                                   const RequestRecord& record) const {
  switch (cause) {
    case FailureCause::None: break;
    case FailureCause::ClientDisconnect:
    case FailureCause::Draining:              // the gateway's shutdown, not the endpoint's health
    case FailureCause::UpstreamTotalTimeout:  // the client's budget, not the endpoint's health
      return Verdict::Neutral;
    default:
      return Verdict::Failure;
  }
  const auto& cb = backendConfig().circuit_breaker;
  if (std::find(cb.failure_statuses.begin(), cb.failure_statuses.end(), status) != cb.failure_statuses.end())
    return Verdict::Failure;
  // A first token slower than the SLO counts against the endpoint.
  if (cb.slow_first_token.count() > 0 && RequestRecord::set(record.requestSent)) {
    const auto first = RequestRecord::set(record.firstToken) ? record.firstToken : record.firstByte;
    if (RequestRecord::set(first) && first - record.requestSent > cb.slow_first_token) return Verdict::Failure;
  }
  return Verdict::Success;
}

bool AttemptPlanner::retryable(FailureCause cause) const {
  switch (cause) {
    case FailureCause::UpstreamConnectError:
    case FailureCause::UpstreamTlsError:  // another endpoint may present a good certificate
    case FailureCause::UpstreamConnectTimeout:
    case FailureCause::UpstreamReset:
      return true;
    case FailureCause::UpstreamFirstTokenTimeout:
      return primaryConfig().retry.on_first_token_timeout;
    default:
      return false;
  }
}

// Attempts left, and the retry budget (retries in flight within a share of
// requests in flight) not spent.
bool AttemptPlanner::canRetry() const {
  const auto& retry = primaryConfig().retry;
  if (attempt_ + 1 >= retry.max_attempts) return false;
  const auto& state = up_.cluster.backend(backendIndex_);
  const double allowed =
      std::max<double>(retry.min_retries_in_flight, retry.budget * static_cast<double>(state.slots.inFlight()));
  return static_cast<double>(state.retriesInFlight.load(std::memory_order_relaxed)) < allowed;
}

// Whether some endpoint could take another attempt (checks, takes nothing).
bool AttemptPlanner::hasAlternative() const {
  for (std::size_t c = backendCursor_; c < backendCount(); ++c)
    for (const auto& e : runtime_->backends[backendAt(c)].endpoints)
      if (up_.cluster.endpoint(e.id).breaker.admissible()) return true;
  return false;
}

std::chrono::milliseconds AttemptPlanner::retryDelay(FailureCause reason, std::chrono::milliseconds retryAfter) {
  lastCause_ = reason;
  ++attempt_;
  const auto& retry = primaryConfig().retry;
  // Jittered exponential backoff: base x 2^(n-1) x [0.5, 1.5), capped; at least Retry-After.
  const auto exp = retry.backoff_base * (1LL << std::min<unsigned>(attempt_ - 1, 16));
  auto delay = std::min<std::chrono::milliseconds>(exp, retry.backoff_max);
  const double jitter = 0.5 + static_cast<double>(up_.random() % 1000) / 1000.0;
  delay = std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(delay.count()) * jitter));
  return std::max(delay, retryAfter);
}

void AttemptPlanner::finish(FailureCause cause, unsigned status, const RequestRecord& record) {
  if (attemptOpen_) endAttempt(verdictFor(cause, status, record), cause);
  settleHeldVerdicts();
  releaseSlot();
}

unsigned AttemptPlanner::circuitRetryAfterSeconds() const {
  const auto now = ClusterState::steadyNowNs();
  std::int64_t soonest = std::numeric_limits<std::int64_t>::max();
  for (std::size_t c = 0; c < backendCount(); ++c)
    for (const auto& e : runtime_->backends[backendAt(c)].endpoints)
      soonest = std::min(soonest, up_.cluster.endpoint(e.id).breaker.openUntilNs() - now);
  if (soonest == std::numeric_limits<std::int64_t>::max() || soonest <= 0) return 1;
  return static_cast<unsigned>((soonest + 999'999'999) / 1'000'000'000);
}

}  // namespace infergate
