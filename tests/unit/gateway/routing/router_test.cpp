#include "gateway/routing/router.hpp"

#include <gtest/gtest.h>

using namespace infergate;

TEST(Glob, MatchesStarsAnywhere) {
  EXPECT_TRUE(globMatch("gpt-*", "gpt-4o"));
  EXPECT_TRUE(globMatch("gpt-*", "gpt-"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*-mini", "gpt-4o-mini"));
  EXPECT_TRUE(globMatch("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(globMatch("llama3", "llama3"));
  EXPECT_FALSE(globMatch("llama3", "llama3.1"));
  EXPECT_FALSE(globMatch("gpt-*", "claude"));
  EXPECT_FALSE(globMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(globMatch("**x", "abx"));
}

TEST(Router, FirstMatchingRouteWins) {
  std::vector<config::RouteConfig> routes(4);
  routes[0].name = "embeddings";
  routes[0].path_prefix = "/v1/embeddings";
  routes[1].name = "gpt";
  routes[1].path_prefix = "/v1/";
  routes[1].models = {"gpt-*", "o1"};
  routes[2].name = "any-model";
  routes[2].path_prefix = "/v1/chat/";
  routes[2].models = {"*"};
  routes[3].name = "catch-all";
  routes[3].path_prefix = "/v1/models";
  Router router(routes);
  std::string gpt = "gpt-4o", o1 = "o1", other = "mistral";
  EXPECT_EQ(router.match("/v1/embeddings", &gpt)->name, "embeddings");
  EXPECT_EQ(router.match("/v1/chat/completions", &gpt)->name, "gpt");
  EXPECT_EQ(router.match("/v1/completions", &o1)->name, "gpt");
  EXPECT_EQ(router.match("/v1/chat/completions", &other)->name, "any-model");
  EXPECT_EQ(router.match("/v1/completions", &other), nullptr);
  // No model: only routes without a model filter match.
  EXPECT_EQ(router.match("/v1/chat/completions", nullptr), nullptr);
  EXPECT_EQ(router.match("/v1/models", nullptr)->name, "catch-all");
  EXPECT_EQ(router.match("/health", nullptr), nullptr);
}
