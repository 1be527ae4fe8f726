// The chain's contract: request phases in order and stopping at a local reply,
// response phases in reverse order and body pieces only to the filters that
// asked, a paused chain resumed after its pausing filter, per-request state
// reset for every request without reallocation.
#include "filters/filter_chain.hpp"

#include <gtest/gtest.h>

#include "filters/filter_set.hpp"
#include "tests/unit/filters/filter_fixture.hpp"

namespace infergate {
namespace {

using testing::FilterFixture;
using testing::only;

struct Trace {
  std::vector<std::string> calls;
};

struct CountingState {
  int requests = 0;
  int resets = 0;
  std::string seen;
  void reset() {
    ++resets;
    seen.clear();
  }
};

// Records each phase; answers locally when told to; wants the body when told to.
class TracingFilter final : public StatefulFilter<CountingState> {
 public:
  TracingFilter(std::string name, Trace& trace, bool reply, bool wantsBody)
      : name_(std::move(name)), trace_(trace), reply_(reply), wantsBody_(wantsBody) {}
  std::string_view name() const override { return name_; }
  std::uint8_t phases() const override { return phases_; }
  void setPhases(std::uint8_t p) { phases_ = p; }
  FilterStatus onRequest(RequestContext& ctx) override {
    trace_.calls.push_back(name_ + ".request");
    ++state(ctx).requests;
    return reply_ ? ctx.fail(errorFor(FailureCause::ClientInvalidRequest, "no")) : FilterStatus::Continue;
  }
  bool onResponseHeaders(RequestContext& ctx) override {
    trace_.calls.push_back(name_ + ".headers");
    ctx.responseHeaders += "x-" + name_ + ": 1\r\n";
    return wantsBody_;
  }
  void onResponseData(RequestContext& ctx, std::string_view piece) override {
    trace_.calls.push_back(name_ + ".data");
    state(ctx).seen.append(piece);
  }
  void onResponseEnd(RequestContext&) override { trace_.calls.push_back(name_ + ".end"); }
  void onComplete(RequestContext&) override { trace_.calls.push_back(name_ + ".complete"); }
  const CountingState& peek(RequestContext& ctx) { return state(ctx); }

 private:
  std::string name_;
  Trace& trace_;
  bool reply_, wantsBody_;
  std::uint8_t phases_ = kOnRequest | kOnResponseHeaders | kOnResponseEnd | kOnComplete;
};

struct Built {
  std::vector<TracingFilter*> filters;
};

FilterRegistration tracing(std::string name, Trace& trace, Built& built, bool reply = false, bool body = false) {
  return only(name, [=, &trace, &built](const FilterDependencies&, const RouteScope& s) {
    auto f = std::make_unique<TracingFilter>(name, trace, reply, body);
    if (s.route != nullptr && s.index == 0) built.filters.push_back(f.get());
    return f;
  });
}

TEST(FilterChain, RequestsRunInOrderResponsesInReverse) {
  FilterFixture fx;
  Trace trace;
  Built built;
  fx.build({tracing("a", trace, built, false, true), tracing("b", trace, built), tracing("c", trace, built, false, true)});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  EXPECT_TRUE(chain.onResponseHeaders(fx.ctx));
  chain.onResponseData(fx.ctx, "piece");
  chain.onResponseEnd(fx.ctx);
  chain.onComplete(fx.ctx);
  const std::vector<std::string> expected{"a.request", "b.request", "c.request", "c.headers", "b.headers",
                                          "a.headers", "c.data",    "a.data",    "c.end",     "b.end",
                                          "a.end",     "a.complete", "b.complete", "c.complete"};
  EXPECT_EQ(trace.calls, expected);
  // Header lines are added in response order.
  EXPECT_EQ(fx.ctx.responseHeaders, "x-c: 1\r\nx-b: 1\r\nx-a: 1\r\n");
  EXPECT_EQ(built.filters[0]->peek(fx.ctx).seen, "piece");
  EXPECT_EQ(built.filters[1]->peek(fx.ctx).seen, "");  // did not ask for the body
}

TEST(FilterChain, ALocalReplyStopsTheRequestPhase) {
  FilterFixture fx;
  Trace trace;
  Built built;
  fx.build({tracing("a", trace, built), tracing("b", trace, built, true), tracing("c", trace, built)});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::LocalReply);
  EXPECT_EQ(trace.calls, (std::vector<std::string>{"a.request", "b.request"}));
  EXPECT_EQ(fx.ctx.reply->error.status, 400u);
  EXPECT_EQ(fx.ctx.reply->error.message, "no");
}

// Pauses the chain (as a filter waiting for a shared store does).
class PausingFilter final : public Filter {
 public:
  PausingFilter(std::string name, Trace& trace) : name_(std::move(name)), trace_(trace) {}
  std::string_view name() const override { return name_; }
  std::uint8_t phases() const override { return kOnRequest; }
  FilterStatus onRequest(RequestContext&) override {
    trace_.calls.push_back(name_ + ".request");
    return FilterStatus::Pause;
  }

 private:
  std::string name_;
  Trace& trace_;
};

FilterRegistration pausing(std::string name, Trace& trace) {
  return only(name, [=, &trace](const FilterDependencies&, const RouteScope&) {
    return std::make_unique<PausingFilter>(name, trace);
  });
}

TEST(FilterChain, APausedChainResumesAfterThePausingFilter) {
  FilterFixture fx;
  Trace trace;
  Built built;
  fx.build({tracing("a", trace, built), pausing("p", trace), tracing("b", trace, built), pausing("q", trace),
            tracing("c", trace, built)});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Pause);
  EXPECT_EQ(trace.calls, (std::vector<std::string>{"a.request", "p.request"}));
  // p's verdict: go on. b runs, then q pauses again.
  EXPECT_EQ(chain.resumeRequest(fx.ctx, FilterStatus::Continue), FilterStatus::Pause);
  EXPECT_EQ(chain.resumeRequest(fx.ctx, FilterStatus::Continue), FilterStatus::Continue);
  EXPECT_EQ(trace.calls,
            (std::vector<std::string>{"a.request", "p.request", "b.request", "q.request", "c.request"}));

  // A paused filter that answers locally stops the chain where it is.
  trace.calls.clear();
  const auto& again = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(again.onRequest(fx.ctx), FilterStatus::Pause);
  EXPECT_EQ(again.resumeRequest(fx.ctx, FilterStatus::LocalReply), FilterStatus::LocalReply);
  EXPECT_EQ(trace.calls, (std::vector<std::string>{"a.request", "p.request"}));
}

TEST(FilterChain, StateIsResetForEveryRequestAndKeptBetweenPhases) {
  FilterFixture fx;
  Trace trace;
  Built built;
  fx.build({tracing("a", trace, built, false, true)});
  auto& filter = *built.filters[0];
  for (int i = 0; i < 3; ++i) {
    const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
    EXPECT_EQ(filter.peek(fx.ctx).seen, "");  // the last request's body is gone
    chain.onRequest(fx.ctx);
    chain.onResponseHeaders(fx.ctx);
    chain.onResponseData(fx.ctx, "x" + std::to_string(i));
    EXPECT_EQ(filter.peek(fx.ctx).seen, "x" + std::to_string(i));
  }
  // Constructed once per connection, reset per request (not reconstructed).
  EXPECT_EQ(filter.peek(fx.ctx).requests, 3);
  EXPECT_EQ(filter.peek(fx.ctx).resets, 3);
}

TEST(FilterChain, CallsAFilterOnlyInThePhasesItDeclares) {
  FilterFixture fx;
  Trace trace;
  Built built;
  auto observer = only("observer", [&](const FilterDependencies&, const RouteScope&) {
    auto f = std::make_unique<TracingFilter>("o", trace, true, true);
    f->setPhases(kOnComplete);  // a completion observer: never asked to answer or to read the body
    return f;
  });
  fx.build({observer, tracing("a", trace, built)});
  const auto& chain = fx.request("/v1/chat/completions", testing::chat("m-1"));
  EXPECT_EQ(chain.onRequest(fx.ctx), FilterStatus::Continue);
  chain.onResponseHeaders(fx.ctx);
  chain.onResponseData(fx.ctx, "piece");
  chain.onResponseEnd(fx.ctx);
  chain.onComplete(fx.ctx);
  EXPECT_EQ(trace.calls, (std::vector<std::string>{"a.request", "a.headers", "a.end", "o.complete", "a.complete"}));
}

TEST(FilterSet, BuildsAChainPerRouteAndOneForUnroutedRequests) {
  FilterFixture fx;
  Trace trace;
  Built built;
  auto routedOnly = only("routed", [&](const FilterDependencies&, const RouteScope& s) -> std::unique_ptr<Filter> {
    if (s.route == nullptr) return nullptr;
    return std::make_unique<TracingFilter>(s.route->name, trace, false, false);
  });
  fx.build({routedOnly, tracing("all", trace, built)});
  EXPECT_EQ(fx.set->route(0).size(), 2u);
  EXPECT_EQ(fx.set->route(0).at(0).name(), "enforce");
  EXPECT_EQ(fx.set->route(1).at(0).name(), "observe");
  EXPECT_EQ(fx.set->unrouted().size(), 1u);
  EXPECT_EQ(fx.set->unrouted().at(0).name(), "all");
  EXPECT_EQ(fx.set->beforeRouting().size(), 0u);
}

struct alignas(64) OverAligned {
  char bytes[64];
  void reset() {}
};
class OverAlignedFilter final : public StatefulFilter<OverAligned> {
 public:
  std::string_view name() const override { return "over_aligned"; }
  std::uint8_t phases() const override { return 0; }
};

TEST(FilterSet, RefusesStateItCannotAlign) {
  FilterFixture fx;
  EXPECT_THROW(fx.build({only("over_aligned", [](const FilterDependencies&, const RouteScope&) {
                 return std::make_unique<OverAlignedFilter>();
               })}),
               std::invalid_argument);
}

}  // namespace
}  // namespace infergate
