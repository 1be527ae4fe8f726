// The quality pipeline's hand-over queue: bounded, never waited on. While the
// scoring thread is not running (as when it is busy), offers beyond
// sampling.queue are dropped and counted; once it runs, the queued ones are scored.
#include "gateway/sampling/quality_pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "config/loader.hpp"

namespace infergate {
namespace {

// A series' value from the registry's exposition; -1 when absent.
double metricValue(const metrics::StatsRegistry& registry, const std::string& family, const std::string& labelValue) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      if (!labelValue.empty() && (m.label.empty() || m.label[0].value != labelValue)) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

std::unique_ptr<OutputSample> sample(int n, std::uint32_t model) {
  auto s = std::make_unique<OutputSample>();
  s->requestId = "req-" + std::to_string(n);
  s->model = model;
  s->status = 200;
  s->requestBody = R"({"model":"m","messages":[{"role":"user","content":"What is the capital of France?"}]})";
  s->responseBody = R"({"choices":[{"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}]})";
  return s;
}

TEST(QualityPipeline, AFullQueueDropsAndCountsAndNeverBlocks) {
  auto loaded = config::loadString(
      "backends:\n  - name: b\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
      "routes:\n  - name: r\n    models: [m]\n    backend: b\n"
      "sampling:\n  queue: 3\n",
      "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front();
  std::string error;
  auto runtime = buildRuntime(loaded.config, error);
  ASSERT_TRUE(runtime) << error;
  metrics::LabelSpace labels(runtime->config);
  const auto model = labels.modelIndex("m");
  ASSERT_EQ(labels.model(model), "m");
  metrics::StatsRegistry registry(1);
  ClusterState cluster(*runtime);
  QualityPipeline pipeline(runtime, labels, registry, cluster);

  for (int i = 0; i < 10; ++i) pipeline.offer(sample(i, model));  // the scoring thread has not started
  EXPECT_EQ(metricValue(registry, "infergate_output_samples_dropped_total", "queue_full"), 7);
  EXPECT_EQ(metricValue(registry, "infergate_output_queue_depth", ""), 3);

  pipeline.start();
  for (int i = 0; i < 250 && metricValue(registry, "infergate_output_samples_total", "m") < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(metricValue(registry, "infergate_output_samples_total", "m"), 3);
  EXPECT_EQ(metricValue(registry, "infergate_output_queue_depth", ""), 0);
  std::string report;
  ASSERT_TRUE(pipeline.samplesReport(10, "", report));
  EXPECT_NE(report.find("\"req-0\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"req-2\""), std::string::npos);
  EXPECT_EQ(report.find("\"req-3\""), std::string::npos);  // dropped
  pipeline.stop();
}

}  // namespace
}  // namespace infergate
