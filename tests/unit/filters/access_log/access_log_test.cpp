#include "filters/access_log/access_log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "config/loader.hpp"

using namespace infergate;

TEST(AccessLogLine, IsOneJsonObjectWithLabelsAndNulls) {
  auto loaded = config::loadString(
      "backends:\n  - name: m\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
      "routes:\n  - name: chat\n    models: [mock-model]\n    backend: m\n",
      "t.yaml");
  ASSERT_TRUE(loaded.ok());
  metrics::LabelSpace labels(loaded.config);
  AccessLogEntry e{};
  std::string id = "req-\"1\"";
  std::memcpy(e.requestId, id.data(), id.size());
  e.requestIdLength = static_cast<std::uint8_t>(id.size());
  e.route = 1;
  e.backend = 1;
  e.endpoint = 1;
  e.model = 2;
  e.wallMs = 1795320087123;
  e.status = 504;
  e.cause = FailureCause::UpstreamFirstTokenTimeout;
  e.totalMs = 12.5;
  e.connectMs = -1;
  e.firstByteMs = -1;
  e.firstTokenMs = -1;
  e.overheadMs = 0.04;
  std::string line;
  formatAccessLogLine(line, e, labels);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto json = boost::json::parse(line).as_object();
  EXPECT_EQ(json.at("request_id").as_string(), id);
  EXPECT_EQ(json.at("time").as_string(), "2026-11-22T04:01:27.123Z");
  EXPECT_EQ(json.at("route").as_string(), "chat");
  EXPECT_EQ(json.at("endpoint").as_string(), "127.0.0.1:1");
  EXPECT_EQ(json.at("model").as_string(), "mock-model");
  EXPECT_EQ(json.at("status").as_int64(), 504);
  EXPECT_EQ(json.at("cause").as_string(), "upstream_first_token_timeout");
  EXPECT_TRUE(json.at("upstream_first_byte_ms").is_null());
  EXPECT_TRUE(json.at("prompt_tokens").is_null());
  EXPECT_DOUBLE_EQ(json.at("duration_ms").as_double(), 12.5);
}
