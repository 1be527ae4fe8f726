#include "gateway/net/connection_limits.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace infergate;
using Refusal = ConnectionLimits::Refusal;

namespace {
config::ServerLimits limits(unsigned total, unsigned perClient, std::size_t bodies) {
  config::ServerLimits l;
  l.max_connections = total;
  l.max_connections_per_client = perClient;
  l.max_buffered_body_bytes = bodies;
  return l;
}
const auto kA = boost::asio::ip::make_address("10.0.0.1");
const auto kB = boost::asio::ip::make_address("::ffff:10.0.0.2");  // IPv4-mapped: the same client as 10.0.0.2
const auto kB4 = boost::asio::ip::make_address("10.0.0.2");
}  // namespace

TEST(ConnectionLimits, CountsEveryConnectionAndEveryClient) {
  ConnectionLimits caps(limits(4, 2, 1000));
  EXPECT_EQ(caps.admit(kA), Refusal::None);
  EXPECT_EQ(caps.admit(kA), Refusal::None);
  EXPECT_EQ(caps.admit(kA), Refusal::MaxConnectionsPerClient);
  EXPECT_EQ(caps.admit(kB), Refusal::None);
  EXPECT_EQ(caps.admit(kB4), Refusal::None);
  EXPECT_EQ(caps.admit(kB4), Refusal::MaxConnections);  // 4 open
  caps.release(kA);
  EXPECT_EQ(caps.admit(kB), Refusal::MaxConnectionsPerClient);  // kB and kB4 are one client
  EXPECT_EQ(caps.admit(kA), Refusal::None);                     // kA's slot came back
  EXPECT_EQ(caps.open(), 4);
  EXPECT_EQ(caps.refused(Refusal::MaxConnections), 1u);
  EXPECT_EQ(caps.refused(Refusal::MaxConnectionsPerClient), 2u);
}

TEST(ConnectionLimits, BodyBudgetIsSharedAndGivenBack) {
  ConnectionLimits caps(limits(0, 0, 1000));
  EXPECT_TRUE(caps.chargeBody(600));
  EXPECT_FALSE(caps.chargeBody(401));
  EXPECT_TRUE(caps.chargeBody(400));
  EXPECT_EQ(caps.bufferedBodyBytes(), 1000u);
  caps.releaseBody(600);
  EXPECT_TRUE(caps.chargeBody(600));
  EXPECT_EQ(caps.refused(Refusal::BodyBudget), 1u);
}

// Workers admit and release concurrently: the counts come back to zero.
TEST(ConnectionLimits, ConcurrentAdmitsAndReleasesBalance) {
  ConnectionLimits caps(limits(0, 1000000, 1 << 30));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&caps, t] {
      const auto client = boost::asio::ip::make_address_v4(0x0A000000u + static_cast<unsigned>(t % 2));
      for (int i = 0; i < 10000; ++i) {
        if (caps.admit(client) == Refusal::None) caps.release(client);
        if (caps.chargeBody(100)) caps.releaseBody(100);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(caps.open(), 0);
  EXPECT_EQ(caps.bufferedBodyBytes(), 0u);
}
