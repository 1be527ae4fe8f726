// What client keys and local rate limits cost a request on their own: the
// auth and rate_limits filters (filters/builtin_filters.cpp) run through a
// real chain for a parsed chat request with an Authorization header, every
// phase they take part in (request, response head with the x-ratelimit-*
// lines, settlement, completion with the key's counters). The end-to-end
// cost, with the kernel and the rest of the gateway, is loadtest/compare.sh's
// infergate / infergate-auth / infergate-keys peers.
//   taskset -c 1 build/loadtest/key_filters_bench
#include <benchmark/benchmark.h>

#include <boost/beast/http/verb.hpp>

#include "config/loader.hpp"
#include "filters/builtin_filters.hpp"
#include "filters/core/request_facts.hpp"
#include "filters/filter_set.hpp"
#include "filters/profile/profile_stats.hpp"
#include "metrics/label_space.hpp"
#include "metrics/stats.hpp"

using namespace infergate;

namespace {

constexpr const char* kKey = "sk-loadtest-key-0123456789abcdef";
constexpr const char* kBody =
    R"({"model":"mock-model","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16,"temperature":0.2})";

std::string configWith(const std::string& extra) {
  return "backends:\n  - name: b\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
         "routes:\n  - name: chat\n    path_prefix: /v1/\n    backend: b\n" +
         extra;
}

struct Bench {
  explicit Bench(const std::string& yaml) {
    auto loaded = config::loadString(yaml, "bench.yaml", [](const std::string& name) -> std::optional<std::string> {
      if (name == "KEY") return kKey;
      return std::nullopt;
    });
    if (!loaded.ok()) throw std::runtime_error(loaded.errors.front());
    config = std::move(loaded.config);
    labels = std::make_unique<metrics::LabelSpace>(config);
    bins = std::make_unique<profile::BinSpec>(config.profile);
    stats = std::make_unique<metrics::StatsRegistry>(1);
    profileStats = std::make_unique<profile::ProfileStats>(*stats, *labels, *bins);
    std::vector<FilterRegistration> keyFilters;
    for (auto& r : builtinFilters())
      if (r.name == "auth" || r.name == "rate_limits") keyFilters.push_back(std::move(r));
    FilterDependencies deps{config, *stats, *labels, *bins, *profileStats};
    set = std::make_unique<FilterSet>(deps, keyFilters);
    states = std::make_unique<FilterStates>();
    set->buildStates(*states);
    message.method(boost::beast::http::verb::post);
    message.target("/v1/chat/completions");
    message.set(boost::beast::http::field::host, "gateway");
    message.set(boost::beast::http::field::content_type, "application/json");
    message.set(boost::beast::http::field::authorization, std::string("Bearer ") + kKey);
    message.body() = kBody;
    message.body().reserve(message.body().size() + simdjson::SIMDJSON_PADDING);
    extractRequestFacts(parser, message.body().padded(), facts, ApiKind::Chat);
    ctx.message = &message;
    ctx.path = "/v1/chat/completions";
    ctx.jsonApi = true;
    ctx.facts = &facts;
    ctx.record = &record;
    ctx.json = &parser;
    ctx.states = states->data();
  }

  // One request through every phase the key filters take part in.
  void request() {
    record.reset();
    record.route = 1;
    record.bodyRead = RequestRecord::Clock::now();
    ctx.responseHeaders.clear();
    const auto& chain = set->route(0);
    chain.begin(ctx);
    benchmark::DoNotOptimize(chain.onRequest(ctx));
    record.requestSent = record.firstByte = record.bodyRead;
    ctx.response = {200, false, true, true, false};
    benchmark::DoNotOptimize(chain.onResponseHeaders(ctx));
    record.hasUsage = true;
    record.promptTokens = 20;
    record.completionTokens = 16;
    record.lastByte = record.bodyRead;
    ctx.response.complete = true;
    chain.onResponseEnd(ctx);
    chain.onComplete(ctx);
    benchmark::DoNotOptimize(ctx.responseHeaders.data());
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
};

void run(benchmark::State& state, const std::string& extra) {
  Bench bench(configWith(extra));
  for (auto _ : state) bench.request();
}

// The same key (a peer of compare.sh) with no limit, and with limits that never trip.
const std::string kAuth = "auth:\n  keys:\n    - name: loadtest\n      key: ${KEY}\n";
const std::string kLimits =
    "      limits: {requests_per_minute: 100000000, tokens_per_minute: 2000000000, concurrent: 100000}\n";

}  // namespace

BENCHMARK_CAPTURE(run, no_key_filters, std::string());
BENCHMARK_CAPTURE(run, auth, kAuth);
BENCHMARK_CAPTURE(run, auth_and_local_limits, kAuth + kLimits);

BENCHMARK_MAIN();
