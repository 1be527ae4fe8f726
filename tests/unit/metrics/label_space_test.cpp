#include "metrics/label_space.hpp"

#include <gtest/gtest.h>

#include "tests/unit/metrics/two_route_config.hpp"

using namespace infergate;
using namespace infergate::metrics;

using infergate::testing::twoRouteConfig;

TEST(LabelSpace, ModelsAreConfiguredNamesOrOther) {
  auto config = twoRouteConfig();
  LabelSpace labels(config);
  EXPECT_EQ(labels.model(labels.modelIndex("gpt-4o")), "gpt-4o");
  EXPECT_EQ(labels.model(labels.modelIndex("mistral")), "mistral");
  EXPECT_EQ(labels.model(labels.modelIndex("extra")), "extra");
  EXPECT_EQ(labels.modelIndex("llama-3"), LabelSpace::kOtherModel);  // globs are not labels
  EXPECT_EQ(labels.modelIndex("llama-*"), LabelSpace::kOtherModel);
  EXPECT_EQ(labels.modelCount(), 5u);  // none, other, gpt-4o, mistral, extra
  EXPECT_EQ(labels.endpoint(3), "127.0.0.1:3");
  EXPECT_EQ(labels.backend(labels.endpointBackend(3)), "b");
  EXPECT_EQ(labels.pairCount(), 4u);  // none, the two routes' pairs, the gateway's own endpoints
  EXPECT_EQ(labels.pair(labels.pairIndex(2, 2)).route, 2u);
  EXPECT_EQ(labels.route(labels.gatewayRoute()), "feedback");
  EXPECT_EQ(labels.gatewayRoute(), 3u);  // after none and the two configured routes
  EXPECT_EQ(labels.pair(labels.pairIndex(labels.gatewayRoute(), LabelSpace::kNone)).backend, LabelSpace::kNone);
}

TEST(LabelSpace, StatusCodesAreBounded) {
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(200)), "200");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(429)), "429");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(418)), "4xx");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(599)), "5xx");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(0)), "none");
  EXPECT_EQ(LabelSpace::code(LabelSpace::codeIndex(999)), "none");
}


// The model labels a route can produce follow from its patterns: exact names,
// labelled names a glob matches, and "other" only behind a glob.
TEST(LabelSpace, RoutesServeTheModelsTheirPatternsAdmit) {
  auto config = twoRouteConfig();  // r1: gpt-4o, llama-* on a; r2: gpt-4o, mistral on b; label "extra"
  LabelSpace labels(config);
  const auto gpt = labels.modelIndex("gpt-4o"), mistral = labels.modelIndex("mistral"), extra = labels.modelIndex("extra");
  EXPECT_TRUE(labels.routeServesModel(1, gpt));
  EXPECT_FALSE(labels.routeServesModel(1, mistral));
  EXPECT_TRUE(labels.routeServesModel(1, LabelSpace::kOtherModel));  // behind 'llama-*'
  EXPECT_FALSE(labels.routeServesModel(1, extra));
  EXPECT_FALSE(labels.routeServesModel(2, LabelSpace::kOtherModel));  // exact names only
  EXPECT_TRUE(labels.backendServesModel(2, mistral));
  EXPECT_FALSE(labels.backendServesModel(1, mistral));
  EXPECT_TRUE(labels.modelServed(LabelSpace::kOtherModel));
  EXPECT_FALSE(labels.modelServed(extra));  // a label no route can produce
  EXPECT_FALSE(labels.modelServed(LabelSpace::kNone));
  EXPECT_FALSE(labels.configuredRoute(LabelSpace::kNone));
  EXPECT_FALSE(labels.configuredRoute(labels.gatewayRoute()));
  EXPECT_TRUE(labels.configuredRoute(2));
}

// Endpoint indexes outlive configs: a reload places new endpoints after the
// old ones, finds a returning one at its old index, and stops at the capacity.
TEST(LabelSpace, EndpointsArePlacedOnceUpToTheCapacity) {
  auto config = twoRouteConfig();
  config.server.max_endpoints = 4;
  LabelSpace labels(config);
  EXPECT_EQ(labels.endpointCount(), 4u);     // none and the three configured
  EXPECT_EQ(labels.endpointCapacity(), 5u);  // none and four
  EXPECT_EQ(labels.placeEndpoint(1, "127.0.0.1:2"), 2u);  // already placed
  EXPECT_EQ(labels.placeEndpoint(2, "127.0.0.1:2"), 4u);  // the same address in another backend is another endpoint
  EXPECT_EQ(labels.endpoint(4), "127.0.0.1:2");
  EXPECT_EQ(labels.backend(labels.endpointBackend(4)), "b");
  EXPECT_EQ(labels.placeEndpoint(1, "127.0.0.1:9"), std::nullopt);  // full
  // The dimension covers every place; a place gets labels once it is taken.
  const auto dimension = labels.endpointDimension();
  EXPECT_EQ(dimension.size(), 5u);
  Labels out;
  std::uint32_t at[1] = {4};
  EXPECT_TRUE(dimension.label(4, at, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, "b");
  EXPECT_EQ(out[1].value, "127.0.0.1:2");
}

TEST(LabelSpace, AConfigWithTheSameSeriesHasTheSameShape) {
  const auto config = twoRouteConfig();
  LabelSpace labels(config);
  std::string why;
  auto same = config;
  same.backends[0].endpoints.pop_back();  // endpoints may change
  same.routes[0].path_prefix = "/v2/";    // and so may a route's settings
  EXPECT_TRUE(labels.sameShape(LabelSpace(same), why)) << why;

  auto renamed = config;
  renamed.routes[1].name = "r3";
  EXPECT_FALSE(labels.sameShape(LabelSpace(renamed), why));
  EXPECT_EQ(why, "routes would become [r1, r3]");

  auto modelled = config;
  modelled.routes[1].models.push_back("new-model");
  EXPECT_FALSE(labels.sameShape(LabelSpace(modelled), why));
  EXPECT_EQ(why, "model labels would become [other, gpt-4o, mistral, new-model, extra]");

  auto rerouted = config;
  rerouted.routes[1].backend_index = 0;  // r2 now uses backend a: a new (route, backend) pair
  EXPECT_FALSE(labels.sameShape(LabelSpace(rerouted), why));
  EXPECT_EQ(why, "the backends and fallbacks a route can use would change");
}
