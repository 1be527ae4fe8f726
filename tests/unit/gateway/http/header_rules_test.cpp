#include "gateway/http/header_rules.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace infergate::headers;
namespace http = boost::beast::http;

TEST(HopByHop, KnowsTheStandardSet) {
  for (const char* h : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
                        "Upgrade", "Proxy-Authenticate", "proxy-authorization"})
    EXPECT_TRUE(isHopByHop(h)) << h;
  for (const char* h : {"Content-Type", "Authorization", "Host", "x-request-id"}) EXPECT_FALSE(isHopByHop(h)) << h;
  // The writers test the enum Beast parsed; every hop-by-hop name has one.
  EXPECT_TRUE(isHopByHop(http::field::proxy_connection));
  EXPECT_FALSE(isHopByHop(http::field::unknown));
}

TEST(RequestId, AcceptsOnlySafeShortIds) {
  EXPECT_TRUE(acceptableRequestId("req-123_abc.def:9"));
  EXPECT_FALSE(acceptableRequestId(""));
  EXPECT_FALSE(acceptableRequestId(std::string(129, 'a')));
  EXPECT_FALSE(acceptableRequestId("a b"));
  EXPECT_FALSE(acceptableRequestId("a\"b"));
  EXPECT_FALSE(acceptableRequestId("a\nb"));
  // Credential-shaped ids would put a key in logs and samples.
  EXPECT_FALSE(acceptableRequestId("sk-proj-0123456789abcdefghijklmn"));
  EXPECT_FALSE(acceptableRequestId("ghp_0123456789abcdefghijklmnop"));
  EXPECT_FALSE(acceptableRequestId("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh"));
  EXPECT_FALSE(acceptableRequestId("4111111111111111"));
  EXPECT_TRUE(acceptableRequestId("0af7651916cd43dd8448eb211c80319c"));
}

TEST(RequestId, GeneratedIdsAreUniqueHex) {
  RequestIdGenerator gen(42);
  std::set<std::string> seen;
  std::string id(RequestIdGenerator::kLength, ' ');
  for (int i = 0; i < 10000; ++i) {
    gen.next(id.data());
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(ForwardedFor, Appends) {
  EXPECT_EQ(appendForwardedFor("", "10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(appendForwardedFor("1.2.3.4", "10.0.0.1"), "1.2.3.4, 10.0.0.1");
}

// The writers compare x-forwarded-for and x-request-id as text only among the
// fields Beast did not recognise: a Boost that learns either name must fail here.
TEST(HopByHop, NamesComparedAsTextAreUnknownToBeast) {
  EXPECT_EQ(http::string_to_field("x-forwarded-for"), http::field::unknown);
  EXPECT_EQ(http::string_to_field("X-Request-Id"), http::field::unknown);
}
