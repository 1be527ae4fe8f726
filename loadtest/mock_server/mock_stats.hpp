#pragma once
// What the mock saw, for tests: request counts, client closes (with the
// CLOCK_MONOTONIC time of the last one, comparable across processes on one
// host), and the last request's head and body.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mock {

class Stats {
 public:
  void onRequest(const std::string& path);
  void onClientClose();
  void recordLast(std::string head, std::string body);
  void reset();
  std::string json();  // the /debug/stats body

  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> streams{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::int64_t> open{0};  // of those, still open
  std::atomic<std::uint64_t> clientCloses{0};
  std::atomic<std::int64_t> lastCloseMonotonicNs{0};
  std::atomic<std::int64_t> active{0};
  // A stream's events sent after they were due (the mock's own thread late:
  // its core busy), so a load test can tell the mock's lateness from the path's.
  void onEventSent(std::int64_t lateUs);
  std::atomic<std::uint64_t> eventsLate1ms{0};
  std::atomic<std::uint64_t> eventsLate5ms{0};
  std::atomic<std::int64_t> maxLateUs{0};
  // HTTPS mode (tls_front.hpp): handshakes done, of which resumed, and failed.
  std::atomic<std::uint64_t> tlsHandshakes{0};
  std::atomic<std::uint64_t> tlsResumed{0};
  std::atomic<std::uint64_t> tlsFailed{0};

 private:
  std::mutex lastMutex_;  // the mock is not the system under test; clarity wins here
  std::string lastHead_;
  std::string lastBody_;
};

std::int64_t monotonicNowNs();

}  // namespace mock
