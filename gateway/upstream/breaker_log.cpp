#include "gateway/upstream/breaker_log.hpp"

#include <algorithm>
#include <string>

#include "filters/core/log_line.hpp"

namespace infergate {

namespace {
using State = CircuitBreaker::State;
constexpr std::array<State, 3> kStates{State::Closed, State::Open, State::HalfOpen};
constexpr std::array<const char*, 3> kNames{"closed", "open", "half-open"};
}  // namespace

BreakerLog::BreakerLog(boost::asio::io_context& io, const std::shared_ptr<const Runtime>& runtime,
                       const ClusterState& cluster)
    : runtime_(runtime), cluster_(cluster), timer_(io),
      seen_(std::max(runtime->endpointCapacity, runtime->endpointCount)) {}

void BreakerLog::start() { look(); }

void BreakerLog::stop() {
  stopped_ = true;
  timer_.cancel();
}

void BreakerLog::look() {
  if (stopped_) return;
  const auto now = ClusterState::steadyNowNs();
  for (const auto& backend : runtime_->backends)
    for (const auto& e : backend.endpoints) {
      const auto& breaker = cluster_.endpoint(e.id).breaker;
      auto& seen = seen_[e.id];
      std::array<std::uint64_t, 3> made{};
      std::uint64_t total = 0;
      for (std::size_t s = 0; s < kStates.size(); ++s) {
        made[s] = breaker.transitionsTo(kStates[s]) - seen[s];
        seen[s] += made[s];
        total += made[s];
      }
      if (total == 0) continue;
      const auto state = breaker.state();
      const auto index = static_cast<std::size_t>(state);
      std::string line = std::string("circuit breaker: ") + backend.config->name + " " + e.name + " is " +
                         kNames[index];
      if (state == State::Open) {
        const auto left = std::max<std::int64_t>(0, breaker.openUntilNs() - now);
        line += " (ejected for " + std::to_string(left / 1'000'000) + " ms; ejection " +
                std::to_string(breaker.ejections()) + ")";
      }
      if (total > 1)
        line += " after " + std::to_string(made[1]) + " opening(s), " + std::to_string(made[2]) + " half-opening(s), " +
                std::to_string(made[0]) + " closing(s)";
      log::write(state == State::Open ? log::Level::Warn : log::Level::Info,
                 log::Fields().add("backend", backend.config->name).add("endpoint", e.name), line);
    }
  timer_.expires_after(std::chrono::milliseconds(200));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) look();
  });
}

}  // namespace infergate
