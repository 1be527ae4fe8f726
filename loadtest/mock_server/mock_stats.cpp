#include "mock_stats.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>

namespace mock {

std::int64_t monotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void Stats::onRequest(const std::string&) { requests.fetch_add(1, std::memory_order_relaxed); }

void Stats::onClientClose() {
  lastCloseMonotonicNs.store(monotonicNowNs());
  clientCloses.fetch_add(1);
}

void Stats::recordLast(std::string head, std::string body) {
  std::lock_guard lock(lastMutex_);
  lastHead_ = std::move(head);
  lastBody_ = std::move(body);
}

void Stats::reset() {
  requests = 0;
  streams = 0;
  connections = 0;
  clientCloses = 0;
  lastCloseMonotonicNs = 0;
  eventsLate1ms = 0;
  eventsLate5ms = 0;
  maxLateUs = 0;
  std::lock_guard lock(lastMutex_);
  lastHead_.clear();
  lastBody_.clear();
}

void Stats::onEventSent(std::int64_t lateUs) {
  if (lateUs >= 1000) ++eventsLate1ms;
  if (lateUs >= 5000) ++eventsLate5ms;
  std::int64_t seen = maxLateUs.load();
  while (lateUs > seen && !maxLateUs.compare_exchange_weak(seen, lateUs)) {
  }
}

std::string Stats::json() {
  boost::json::object o;
  o["requests"] = requests.load();
  o["streams"] = streams.load();
  o["connections"] = connections.load();
  o["open_connections"] = open.load();
  o["client_closes"] = clientCloses.load();
  o["last_close_monotonic_ns"] = lastCloseMonotonicNs.load();
  o["active"] = active.load();
  o["events_late_1ms"] = eventsLate1ms.load();
  o["events_late_5ms"] = eventsLate5ms.load();
  o["max_late_ms"] = static_cast<double>(maxLateUs.load()) / 1000.0;
  o["tls_handshakes"] = tlsHandshakes.load();
  o["tls_resumed"] = tlsResumed.load();
  o["tls_failed"] = tlsFailed.load();
  {
    std::lock_guard lock(lastMutex_);
    o["last_request_head"] = lastHead_;
    o["last_request_body"] = lastBody_;
  }
  return boost::json::serialize(o);
}

}  // namespace mock
