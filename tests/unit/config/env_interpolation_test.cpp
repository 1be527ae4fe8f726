#include "config/env_interpolation.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace infergate::config;

namespace {
EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(Interpolate, ReplacesVariables) {
  auto r = interpolate("Bearer ${KEY} at ${HOST}", fakeEnv({{"KEY", "sk-1"}, {"HOST", "h"}}));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.value, "Bearer sk-1 at h");
}

TEST(Interpolate, UsesDefaultWhenUnsetOrEmpty) {
  EXPECT_EQ(interpolate("${A:-x}", fakeEnv({})).value, "x");
  EXPECT_EQ(interpolate("${A:-x}", fakeEnv({{"A", ""}})).value, "x");
  EXPECT_EQ(interpolate("${A:-x}", fakeEnv({{"A", "y"}})).value, "y");
  EXPECT_EQ(interpolate("${A:-}", fakeEnv({})).value, "");
}

TEST(Interpolate, UnsetWithoutDefaultIsAnError) {
  auto r = interpolate("Bearer ${MISSING_KEY}", fakeEnv({}));
  EXPECT_EQ(r.error, "environment variable MISSING_KEY is not set");
}

TEST(Interpolate, EscapesAndLiterals) {
  EXPECT_EQ(interpolate("$$HOME", fakeEnv({})).value, "$HOME");
  EXPECT_EQ(interpolate("cost $5", fakeEnv({})).value, "cost $5");
  EXPECT_FALSE(interpolate("${UNCLOSED", fakeEnv({})).error.empty());
  EXPECT_FALSE(interpolate("${1BAD}", fakeEnv({})).error.empty());
  EXPECT_FALSE(interpolate("${}", fakeEnv({})).error.empty());
}
