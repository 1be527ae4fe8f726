#pragma once
// Drives filters directly, as Envoy's filter tests do: a real parsed request
// (RequestFacts from the real parser), a RequestRecord, the worker statistics
// of a real Registry, and the filters' per-request state from a real FilterSet
// built from the registrations under test. No socket, no session.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "filters/filter_set.hpp"
#include "filters/profile/profile_stats.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

namespace infergate::testing {

inline const char* kFilterTestConfig =
    "backends:\n  - name: b\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
    "routes:\n"
    "  - name: enforce\n    path_prefix: /v1/\n    models: ['m-*']\n    backend: b\n"
    "    validation: {max_messages: 2, max_tokens_cap: 100}\n"
    "  - name: observe\n    path_prefix: /v1/\n    models: ['o-*']\n    backend: b\n"
    "    validation: {mode: observe, max_messages: 2}\n";

class FilterFixture {
 public:
  explicit FilterFixture(const std::string& yaml = kFilterTestConfig) {
    auto loaded = config::loadString(yaml, "filters.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0]);
    config = std::move(loaded.config);
    labels = std::make_unique<metrics::LabelSpace>(config);
    bins = std::make_unique<profile::BinSpec>(config.profile);
    stats = std::make_unique<metrics::StatsRegistry>(1);
    profileStats = std::make_unique<profile::ProfileStats>(*stats, *labels, *bins);
    ctx.facts = &facts;
    ctx.record = &record;
    ctx.json = &parser;
  }

  // Builds the FilterSet of `registrations` (with `deps` services) and the state block.
  void build(std::vector<FilterRegistration> registrations, SampleHandoff* samples = nullptr,
             const profile::BaselineView* baseline = nullptr) {
    FilterDependencies deps{config, *stats, *labels, *bins, *profileStats, baseline, nullptr, nullptr, samples, nullptr};
    states.reset();  // laid out by the set it replaces: goes first
    set = std::make_unique<FilterSet>(deps, registrations);
    states = std::make_unique<FilterStates>();
    set->buildStates(*states);
    ctx.states = states->data();
  }

  // A request to `path` with `body`, read as the session reads it; the chain
  // of `route` (config order; -1: unrouted) is begun.
  const FilterChain& request(const std::string& path, const std::string& body, int route = 0) {
    message = {};
    message.method(boost::beast::http::verb::post);
    message.target(path);
    message.body() = body;
    message.body().reserve(body.size() + simdjson::SIMDJSON_PADDING);
    record.reset();
    record.bodyRead = RequestRecord::Clock::now();
    facts.reset();
    ctx.message = &message;
    ctx.body = &message.body();
    ctx.path = path;
    ctx.requestId = requestId;
    ctx.jsonApi = isJsonApiPath(path);
    ctx.api = apiKindOf(path);
    ctx.tokenLimits = {};
    ctx.response = {};
    ctx.responseHeaders.clear();
    if (ctx.jsonApi) extractRequestFacts(parser, message.body().padded(), facts, ctx.api);
    if (facts.hasModel) record.model = labels->modelIndex(facts.model);
    const auto& chain = route < 0 ? set->unrouted() : set->route(static_cast<std::size_t>(route));
    if (route >= 0) record.route = metrics::LabelSpace::routeIndex(static_cast<std::size_t>(route));
    chain.begin(ctx);
    return chain;
  }

  config::Config config;
  std::unique_ptr<metrics::LabelSpace> labels;
  std::unique_ptr<profile::BinSpec> bins;
  std::unique_ptr<metrics::StatsRegistry> stats;
  std::unique_ptr<profile::ProfileStats> profileStats;
  std::unique_ptr<FilterSet> set;
  std::unique_ptr<FilterStates> states;
  simdjson::ondemand::parser parser;
  ProxyRequestMessage message;
  RequestFacts facts;
  RequestRecord record;
  RequestContext ctx;
  std::string requestId = "req-1";
};

// A registration of one filter built the same way for every route.
template <class Make>
FilterRegistration only(std::string_view name, Make make) {
  return {name, FilterRegistration::Stage::Route,
          [make](const FilterDependencies& d, const RouteScope& s) -> std::unique_ptr<Filter> { return make(d, s); }};
}

inline std::string chat(const std::string& model, int messages = 1, const std::string& extra = "") {
  std::string body = "{\"model\":\"" + model + "\",\"messages\":[";
  for (int i = 0; i < messages; ++i) body += std::string(i ? "," : "") + "{\"role\":\"user\",\"content\":\"hello\"}";
  return body + "]" + extra + "}";
}

}  // namespace infergate::testing
