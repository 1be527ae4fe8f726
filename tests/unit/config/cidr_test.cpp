#include "config/cidr.hpp"

#include <gtest/gtest.h>

using namespace infergate::config;

TEST(Cidr, RangesAndSingleAddresses) {
  const auto lan = parseCidr("10.0.0.0/8");
  ASSERT_TRUE(lan);
  EXPECT_TRUE(lan->contains("10.1.2.3"));
  EXPECT_FALSE(lan->contains("11.0.0.1"));
  EXPECT_TRUE(lan->contains("::ffff:10.9.9.9"));  // v4-mapped
  const auto host = parseCidr("192.168.1.7");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains("192.168.1.7"));
  EXPECT_FALSE(host->contains("192.168.1.8"));
  const auto v6 = parseCidr("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("fd12:3456::1"));
  EXPECT_FALSE(v6->contains("fe80::1"));
  EXPECT_FALSE(v6->contains("10.0.0.1"));
  const auto odd = parseCidr("172.16.0.0/12");
  EXPECT_TRUE(odd->contains("172.31.255.255"));
  EXPECT_FALSE(odd->contains("172.32.0.0"));
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "example.com", "::1/129", "10.0.0.0/", ""})
    EXPECT_FALSE(parseCidr(bad)) << bad;
  EXPECT_FALSE(lan->contains("not an address"));
}
