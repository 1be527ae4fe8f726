// The typed-statistics mechanism: label-index arithmetic, merging of the
// workers' shards, which series are exported, and values read where they live.
#include "metrics/stats.hpp"

#include <gtest/gtest.h>

namespace infergate::metrics {
namespace {

std::string scrapeOf(const StatsRegistry& r) { return r.scrape(); }
bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(Stats, IndexesAreRowMajorOverTheDimensions) {
  std::vector<Dimension> dims{Dimension::of("a", {"a0", "a1"}), Dimension::of("b", {"b0", "b1", "b2"}),
                              Dimension::of("c", {"c0", "c1", "c2", "c3"})};
  Layout<3> layout(dims);
  EXPECT_EQ(layout.size(), 24u);
  EXPECT_EQ(layout.index({0, 0, 0}), 0u);
  EXPECT_EQ(layout.index({0, 0, 3}), 3u);
  EXPECT_EQ(layout.index({0, 1, 0}), 4u);
  EXPECT_EQ(layout.index({1, 2, 3}), 23u);
}

TEST(Stats, CountersMergeWorkersAndNameEachSeries) {
  StatsRegistry registry(3);
  auto c = registry.counter<2>({"t_total", "Help.", {Dimension::of("x", {"p", "q"}), Dimension::of("y", {"u", "v"})}});
  c.add(0, {1, 0}, 2);
  c.add(2, {1, 0}, 5);
  c.add(1, {0, 1});
  EXPECT_EQ(c.total({1, 0}), 7u);
  EXPECT_EQ(c.get(2, {1, 0}), 5u);
  const auto text = scrapeOf(registry);
  EXPECT_TRUE(has(text, "# HELP t_total Help."));
  EXPECT_TRUE(has(text, "# TYPE t_total counter"));
  EXPECT_TRUE(has(text, "t_total{x=\"q\",y=\"u\"} 7")) << text;
  EXPECT_TRUE(has(text, "t_total{x=\"p\",y=\"v\"} 1"));
  EXPECT_EQ(text.find("t_total{x=\"p\",y=\"u\"}"), std::string::npos);  // never counted: not exported
}

TEST(Stats, DimensionsLeaveOutIndexesWithoutLabels) {
  StatsRegistry registry(1);
  // "none" (index 0) is never a label value; a tuple sets two labels at once.
  auto c = registry.counter<2>({"t_total", "h",
                                {Dimension::tuple({"route", "backend"}, {{"none", "none"}, {"r", "b"}}, 1),
                                 Dimension::of("cause", {"none", "reset"}, 1)},
                                FamilySpec::Zeros::Export});
  c.add(0, {0, 1});
  c.add(0, {1, 0});
  const auto text = scrapeOf(registry);
  EXPECT_TRUE(has(text, "t_total{route=\"r\",backend=\"b\",cause=\"reset\"} 0")) << text;
  EXPECT_EQ(text.find("none"), std::string::npos);
}

TEST(Stats, ALabelCanDependOnAnotherDimension) {
  StatsRegistry registry(1);
  Dimension bins(3, [](std::uint32_t b, std::span<const std::uint32_t> at, Labels& out) {
    if (b > at[0]) return false;  // feature f has f + 1 bins
    out.push_back({"bin", std::to_string(at[0]) + "." + std::to_string(b)});
    return true;
  });
  registry.counter<2>({"t_total", "h", {Dimension::of("f", {"f0", "f1"}), bins}, FamilySpec::Zeros::Export});
  const auto text = scrapeOf(registry);
  EXPECT_TRUE(has(text, "t_total{f=\"f0\",bin=\"0.0\"} 0"));
  EXPECT_TRUE(has(text, "t_total{f=\"f1\",bin=\"1.1\"} 0"));
  EXPECT_EQ(text.find("bin=\"0.1\""), std::string::npos);
}

TEST(Stats, GaugesSumWorkersAndHistogramsAccumulateBuckets) {
  StatsRegistry registry(2);
  auto g = registry.gauge<1>({"t_gauge", "h", {Dimension::of("b", {"x"})}, FamilySpec::Zeros::Export});
  g.add(0, {0}, 3);
  g.add(1, {0}, -1);
  auto h = registry.histogram<0>({"t_seconds", "h", {}},
                                 std::make_shared<const std::vector<double>>(std::vector<double>{0.1, 1}));
  h.observe(0, {}, 0.05);
  h.observe(1, {}, 0.5);
  h.observe(1, {}, 5);
  EXPECT_EQ(h.count({}), 3u);
  const auto text = scrapeOf(registry);
  EXPECT_TRUE(has(text, "t_gauge{b=\"x\"} 2")) << text;
  EXPECT_TRUE(has(text, "t_seconds_bucket{le=\"0.1\"} 1"));
  EXPECT_TRUE(has(text, "t_seconds_bucket{le=\"1\"} 2"));
  EXPECT_TRUE(has(text, "t_seconds_bucket{le=\"+Inf\"} 3"));
  EXPECT_TRUE(has(text, "t_seconds_count 3"));
}

TEST(Stats, ValuesKeptElsewhereAreReadAtScrape) {
  StatsRegistry registry(1);
  std::atomic<int> open{4};
  registry.gaugeFrom({"t_open", "h", {}, FamilySpec::Zeros::Export}, [&open](auto) { return double(open.load()); });
  registry.counterFrom({"t_refused_total", "h", {Dimension::of("reason", {"none", "a", "b"}, 1)},
                        FamilySpec::Zeros::Skip, [](std::span<const std::uint32_t> at) { return at[0] == 2; }},
                       [](std::span<const std::uint32_t> at) { return double(at[0] * 10); });
  auto text = scrapeOf(registry);
  EXPECT_TRUE(has(text, "t_open 4"));
  EXPECT_TRUE(has(text, "t_refused_total{reason=\"b\"} 20")) << text;
  EXPECT_EQ(text.find("reason=\"a\""), std::string::npos);  // exportIf said no
  open = 7;
  EXPECT_TRUE(has(scrapeOf(registry), "t_open 7"));
}

TEST(Stats, AHandleMustMatchItsFamilysDimensions) {
  StatsRegistry registry(1);
  EXPECT_THROW(registry.counter<2>({"t_total", "h", {Dimension::of("x", {"a"})}}), std::logic_error);
}

}  // namespace
}  // namespace infergate::metrics
