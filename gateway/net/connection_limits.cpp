#include "gateway/net/connection_limits.hpp"

#include <cstring>

namespace infergate {

std::string_view ConnectionLimits::reasonName(Refusal r) {
  switch (r) {
    case Refusal::MaxConnections: return "max_connections";
    case Refusal::MaxConnectionsPerClient: return "max_connections_per_client";
    case Refusal::BodyBudget: return "max_buffered_body";
    default: return "none";
  }
}

ConnectionLimits::ConnectionLimits(const config::ServerLimits& limits)
    : maxConnections_(limits.max_connections),
      maxPerClient_(limits.max_connections_per_client),
      maxBufferedBody_(limits.max_buffered_body_bytes) {}

std::size_t ConnectionLimits::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t a, b;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a >> 7)));
}

ConnectionLimits::Key ConnectionLimits::keyOf(const boost::asio::ip::address& address) {
  if (address.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

ConnectionLimits::Shard& ConnectionLimits::shardOf(const Key& key) { return shards_[KeyHash{}(key) % shards_.size()]; }

ConnectionLimits::Refusal ConnectionLimits::admit(const boost::asio::ip::address& client) {
  const auto open = open_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (maxConnections_ != 0 && open > static_cast<std::int64_t>(maxConnections_)) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    count(Refusal::MaxConnections);
    return Refusal::MaxConnections;
  }
  if (maxPerClient_ == 0) return Refusal::None;
  const auto key = keyOf(client);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mutex);
  auto& n = shard.counts[key];
  if (n >= maxPerClient_) {
    if (n == 0) shard.counts.erase(key);
    open_.fetch_sub(1, std::memory_order_relaxed);
    count(Refusal::MaxConnectionsPerClient);
    return Refusal::MaxConnectionsPerClient;
  }
  ++n;
  return Refusal::None;
}

void ConnectionLimits::release(const boost::asio::ip::address& client) {
  open_.fetch_sub(1, std::memory_order_relaxed);
  if (maxPerClient_ == 0) return;
  const auto key = keyOf(client);
  auto& shard = shardOf(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(key);
  if (it == shard.counts.end()) return;
  if (--it->second == 0) shard.counts.erase(it);
}

bool ConnectionLimits::chargeBody(std::size_t bytes) {
  const auto now = bufferedBody_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (now <= maxBufferedBody_) return true;
  bufferedBody_.fetch_sub(bytes, std::memory_order_relaxed);
  count(Refusal::BodyBudget);
  return false;
}

void ConnectionLimits::declareStats(metrics::StatsRegistry& registry) const {
  using Zeros = metrics::FamilySpec::Zeros;
  std::vector<std::string> reasons;
  for (std::size_t r = 0; r < static_cast<std::size_t>(Refusal::Count); ++r)
    reasons.emplace_back(reasonName(static_cast<Refusal>(r)));
  registry.counterFrom({"infergate_downstream_refused_total",
                        "Client connections or requests refused by a shared cap, by the cap.",
                        {metrics::Dimension::of("reason", std::move(reasons), 1)},
                        Zeros::Export},
                       [this](std::span<const std::uint32_t> at) {
                         return static_cast<double>(refused(static_cast<Refusal>(at[0])));
                       });
  registry.gaugeFrom({"infergate_buffered_request_body_bytes",
                      "Request body bytes held across all connections (counted against max_buffered_body).",
                      {},
                      Zeros::Export},
                     [this](std::span<const std::uint32_t>) { return static_cast<double>(bufferedBodyBytes()); });
}

}  // namespace infergate
