#include "gateway/upstream/signal_text.hpp"

#include <gtest/gtest.h>

using namespace infergate;

namespace {
config::SignalsConfig kind(config::SignalsConfig::Kind k) {
  config::SignalsConfig c;
  c.enabled = true;
  c.kind = k;
  return c;
}
}  // namespace

TEST(SignalText, VllmSeriesAreSummedOverTheirLabelsAndTheKvCacheIsTheLargest) {
  const std::string body =
      "# HELP vllm:num_requests_running Number of requests running.\n"
      "# TYPE vllm:num_requests_running gauge\n"
      "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 3.0\n"
      "vllm:num_requests_running{engine=\"1\",model_name=\"m\"} 2\n"
      "vllm:num_requests_waiting{model_name=\"odd } name\"} 4.0 1712345678000\n"  // a '}' in a label, a timestamp
      "vllm:num_requests_waiting_extra 100\n"                                     // another metric with a longer name
      "vllm:gpu_cache_usage_perc{model_name=\"m\"} 0.9\n"                          // the old name: the new one wins
      "vllm:kv_cache_usage_perc{engine=\"0\"} 0.25\n"
      "vllm:kv_cache_usage_perc{engine=\"1\"} 0.5\n"
      "vllm:num_requests_running{model_name=\"m\"} not-a-number\n"
      "vllm:time_to_first_token_seconds_bucket{le=\"0.1\"} 7\n";
  const auto r = readSignals(body, signalNames(kind(config::SignalsConfig::Kind::Vllm)));
  EXPECT_DOUBLE_EQ(r.running, 5);
  EXPECT_DOUBLE_EQ(r.waiting, 4);
  EXPECT_DOUBLE_EQ(r.kvCacheUsage, 0.5);
}

TEST(SignalText, TheOldKvCacheNameIsReadWhenTheNewOneIsAbsent) {
  const auto r = readSignals("vllm:gpu_cache_usage_perc 0.75\n", signalNames(kind(config::SignalsConfig::Kind::Vllm)));
  EXPECT_DOUBLE_EQ(r.kvCacheUsage, 0.75);
  EXPECT_LT(r.running, 0);  // not exported: unknown, not zero
}

TEST(SignalText, EachPresetReadsItsServersNames) {
  using Kind = config::SignalsConfig::Kind;
  auto r = readSignals("tgi_batch_current_size 6\ntgi_queue_size 9\n", signalNames(kind(Kind::Tgi)));
  EXPECT_DOUBLE_EQ(r.running, 6);
  EXPECT_DOUBLE_EQ(r.waiting, 9);
  EXPECT_LT(r.kvCacheUsage, 0);
  r = readSignals("sglang:num_running_reqs{dp=\"0\"} 2\nsglang:num_running_reqs{dp=\"1\"} 3\nsglang:num_queue_reqs 1\n"
                  "sglang:token_usage 0.4\n",
                  signalNames(kind(Kind::Sglang)));
  EXPECT_DOUBLE_EQ(r.running, 5);
  EXPECT_DOUBLE_EQ(r.waiting, 1);
  EXPECT_DOUBLE_EQ(r.kvCacheUsage, 0.4);
  r = readSignals("llamacpp:requests_processing 1\nllamacpp:requests_deferred 2\nllamacpp:kv_cache_usage_ratio 0.1\n",
                  signalNames(kind(Kind::Llamacpp)));
  EXPECT_DOUBLE_EQ(r.running, 1);
  EXPECT_DOUBLE_EQ(r.waiting, 2);
  EXPECT_DOUBLE_EQ(r.kvCacheUsage, 0.1);
  auto custom = kind(Kind::Custom);
  custom.waiting = "my_queue_depth";
  r = readSignals("my_queue_depth{pool=\"a\"} 3\nmy_queue_depth{pool=\"b\"} 4\n", signalNames(custom));
  EXPECT_DOUBLE_EQ(r.waiting, 7);
  EXPECT_LT(r.running, 0);
}
