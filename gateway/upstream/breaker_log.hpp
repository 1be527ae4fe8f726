#pragma once
// One log line per circuit breaker transition, with the backend and the
// endpoint. The breakers change state on worker threads, under their own
// lock, and know no names; this reads their transition counters on the
// control thread every 200 ms instead, so the request path writes no log.
// A breaker that went through several states between two looks is reported
// with the state it is in and the transitions it made.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/server/runtime.hpp"
#include "gateway/upstream/cluster_state.hpp"

namespace infergate {

class BreakerLog {
 public:
  // `runtime`: the config in force, which a reload replaces (on the control thread too).
  BreakerLog(boost::asio::io_context& io, const std::shared_ptr<const Runtime>& runtime, const ClusterState& cluster);
  void start();
  void stop();

 private:
  void look();

  const std::shared_ptr<const Runtime>& runtime_;
  const ClusterState& cluster_;
  boost::asio::steady_timer timer_;
  std::vector<std::array<std::uint64_t, 3>> seen_;  // transitions to closed, open, half-open, per endpoint id
  bool stopped_ = false;
};

}  // namespace infergate
