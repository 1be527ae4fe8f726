// A filter from outside the product joins the request path by registration
// alone: the session and the upstream exchange carry its local reply and its
// response header without knowing it. The gateway runs in this process (its
// Server with the built-in filters plus this one), in front of the real mock
// model server, over real sockets.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "filters/builtin_filters.hpp"
#include "gateway/server/server.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

// Adds "x-test-filter: <route>" to every proxied answer; answers 403 itself
// to a request carrying "x-test-deny".
class TestHeaderFilter final : public infergate::Filter {
 public:
  explicit TestHeaderFilter(std::string route) : line_("x-test-filter: " + route + "\r\n") {}
  std::string_view name() const override { return "test_header"; }
  std::uint8_t phases() const override { return infergate::kOnRequest | infergate::kOnResponseHeaders; }
  infergate::FilterStatus onRequest(infergate::RequestContext& ctx) override {
    if ((*ctx.message)["x-test-deny"].empty()) return infergate::FilterStatus::Continue;
    auto error = infergate::errorFor(infergate::FailureCause::ClientInvalidRequest, "denied by the test filter");
    error.status = 403;
    return ctx.fail(std::move(error));
  }
  bool onResponseHeaders(infergate::RequestContext& ctx) override {
    ctx.responseHeaders += line_;
    return false;
  }

 private:
  std::string line_;
};

infergate::FilterRegistration testHeader() {
  return {"test_header", infergate::FilterRegistration::Stage::Route,
          [](const infergate::FilterDependencies&, const infergate::RouteScope& scope)
              -> std::unique_ptr<infergate::Filter> {
            if (scope.route == nullptr) return nullptr;
            return std::make_unique<TestHeaderFilter>(scope.route->name);
          }};
}

}  // namespace

TEST(FilterRegistration, ATestOnlyFilterJoinsTheChainByRegistrationAlone) {
  MockServer mock;
  auto loaded = infergate::config::loadString(standardConfig(mock.port()), "inline.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0];
  std::string error;
  auto runtime = infergate::buildRuntime(std::move(loaded.config), error);
  ASSERT_TRUE(runtime) << error;
  auto filters = infergate::builtinFilters();
  filters.push_back(testHeader());
  infergate::Server server(runtime, filters);
  server.start();
  const auto port = server.proxyEndpoint().port();

  for (bool stream : {false, true}) {
    auto r = request(port, jsonPost("/v1/chat/completions", chatBody("mock-model", stream)));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-test-filter"), "chat");
    EXPECT_FALSE(r.header("x-request-id").empty());  // the built-in head is intact around it
  }
  auto denied = request(port, jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-test-deny: 1"}));
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("denied by the test filter"), std::string::npos);
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 2u);  // the denied one never left

  // Without the registration the same gateway adds nothing.
  infergate::Server plain(runtime, infergate::builtinFilters());
  plain.start();
  auto r = request(plain.proxyEndpoint().port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-test-filter"), "");
}
