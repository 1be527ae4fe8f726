#include "gateway/http/field_scan.hpp"

#include <gtest/gtest.h>

#include "filters/core/http_messages.hpp"

using namespace infergate;
namespace http = boost::beast::http;

namespace {

ProxyRequestHead headWith(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  ProxyRequestHead head;
  for (const auto& [name, value] : fields) head.insert(name, value);
  return head;
}

}  // namespace

TEST(FieldScan, FindsTheFirstValueOfAKnownField) {
  const auto head = headWith({{"Host", "a"}, {"content-type", "application/json"}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(headers::valueOf(head, http::field::content_type), "application/json");
  EXPECT_EQ(headers::valueOf(head, http::field::host), "a");
  EXPECT_EQ(headers::valueOf(head, http::field::expect), "");
}

TEST(FieldScan, ComparesUnknownNamesAsTextIgnoringCase) {
  const auto head = headWith({{"X-Other", "1"}, {"x-REQUEST-id", "abc"}, {"X-Request-Id", "def"}});
  EXPECT_EQ(headers::valueOfUnknown(head, "x-request-id"), "abc");
  EXPECT_EQ(headers::valueOfUnknown(head, "x-missing"), "");
}
