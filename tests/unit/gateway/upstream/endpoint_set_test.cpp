#include "gateway/upstream/endpoint_set.hpp"

#include <gtest/gtest.h>

using namespace infergate;

TEST(EndpointSet, HoldsLowIdsInPlaceAndHighOnesInABlock) {
  EndpointSet set;
  EXPECT_TRUE(set.empty());
  for (std::size_t id : {0u, 5u, 63u, 64u, 200u, 1000u}) {
    EXPECT_FALSE(set.has(id)) << id;
    set.add(id);
    EXPECT_TRUE(set.has(id)) << id;
  }
  for (std::size_t id : {1u, 62u, 65u, 127u, 128u, 199u, 201u, 999u, 1001u, 5000u}) EXPECT_FALSE(set.has(id)) << id;
  EXPECT_FALSE(set.empty());
  set.clear();
  EXPECT_TRUE(set.empty());
  for (std::size_t id : {0u, 5u, 63u, 64u, 200u, 1000u}) EXPECT_FALSE(set.has(id)) << id;
  set.add(1000);  // the kept block again
  EXPECT_TRUE(set.has(1000));
  EXPECT_FALSE(set.empty());
}

TEST(EndpointSet, CopiesAreIndependent) {
  EndpointSet tried;
  tried.add(3);
  tried.add(130);
  EndpointSet skipped = tried;  // as the picker copies a request's set before adding refusals
  skipped.add(7);
  skipped.add(300);
  EXPECT_TRUE(skipped.has(3) && skipped.has(130) && skipped.has(7) && skipped.has(300));
  EXPECT_FALSE(tried.has(7) || tried.has(300));

  EndpointSet wide;
  wide.add(900);
  wide = tried;  // a larger block is cleared beyond what is copied
  EXPECT_TRUE(wide.has(3) && wide.has(130));
  EXPECT_FALSE(wide.has(900));
  EndpointSet low;
  low.add(1);
  wide = low;
  EXPECT_TRUE(wide.has(1));
  EXPECT_FALSE(wide.has(3) || wide.has(130));
}
