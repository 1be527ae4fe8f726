#include "config/units.hpp"

#include <gtest/gtest.h>

using namespace infergate::config;
using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(parseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(parseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(parseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(parseDuration("0s"), milliseconds(0));
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* bad : {"", "10", "s", "1.5s", "-1s", "10 s", "10sec", "ms", "5d", "99999999999999999999h"})
    EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
}

TEST(ParseSize, AcceptsBinaryAndDecimalUnits) {
  EXPECT_EQ(parseSize("512"), 512u);
  EXPECT_EQ(parseSize("512B"), 512u);
  EXPECT_EQ(parseSize("16KiB"), 16u * 1024);
  EXPECT_EQ(parseSize("8MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(parseSize("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parseSize("10KB"), 10'000u);
  EXPECT_EQ(parseSize("2MB"), 2'000'000u);
}

TEST(ParseSize, RejectsMalformedText) {
  for (const char* bad : {"", "KiB", "1.5MiB", "-1", "16kib", "16 KiB", "1TiB", "99999999999999999999GiB"})
    EXPECT_FALSE(parseSize(bad).has_value()) << bad;
}
