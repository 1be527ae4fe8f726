#pragma once
// Caps shared by all workers, so that no client can take the gateway's
// connections or memory from the others: client connections in all (and per
// client address), and the request bodies held at once. Touched when a
// connection opens or closes and when a body starts or ends, never per byte
// relayed. Refusals are counted by reason for /metrics.
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <prometheus/metric_family.h>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "metrics/stats.hpp"

namespace infergate {

class ConnectionLimits {
 public:
  enum class Refusal : std::uint8_t { None, MaxConnections, MaxConnectionsPerClient, BodyBudget, Count };
  static std::string_view reasonName(Refusal r);

  explicit ConnectionLimits(const config::ServerLimits& limits);

  // A new client connection: admitted (and counted until release) or refused.
  Refusal admit(const boost::asio::ip::address& client);
  void release(const boost::asio::ip::address& client);

  // Reserves `bytes` of request body against the shared budget; false (and
  // counted) when it would go over.
  bool chargeBody(std::size_t bytes);
  void releaseBody(std::size_t bytes) { bufferedBody_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::int64_t open() const { return open_.load(std::memory_order_relaxed); }
  std::size_t bufferedBodyBytes() const { return bufferedBody_.load(std::memory_order_relaxed); }
  std::uint64_t refused(Refusal r) const { return refused_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed); }
  // Declares infergate_downstream_refused_total{reason} (every reason, from
  // zero) and infergate_buffered_request_body_bytes, read from this object.
  void declareStats(metrics::StatsRegistry& registry) const;

 private:
  using Key = std::array<unsigned char, 16>;  // IPv6 bytes, IPv4 mapped
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  // Per-client counts in shards, each with its own small lock: a connection
  // opening on one worker rarely waits for another.
  struct Shard {
    std::mutex mutex;
    std::unordered_map<Key, std::uint32_t, KeyHash> counts;
  };
  static Key keyOf(const boost::asio::ip::address& address);
  Shard& shardOf(const Key& key);
  void count(Refusal r) { refused_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }

  const unsigned maxConnections_;
  const unsigned maxPerClient_;
  const std::size_t maxBufferedBody_;
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::size_t> bufferedBody_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refusal::Count)> refused_{};
  std::array<Shard, 32> shards_;
};

}  // namespace infergate
