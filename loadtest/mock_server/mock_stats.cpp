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
  std::lock_guard lock(lastMutex_);
  lastHead_.clear();
  lastBody_.clear();
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
