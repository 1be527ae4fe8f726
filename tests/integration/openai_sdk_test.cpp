// The official openai client (Node) against a real gateway and mock server.
#include <gtest/gtest.h>

#include "support/fixtures.hpp"

using namespace testsupport;

TEST(OpenAiSdk, ChatStreamingEmbeddingsModelsAndErrorsWork) {
  MockServer mock;
  ConfigKnobs k;
  k.firstToken = "500ms";
  k.routes =
      "routes:\n"
      "  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\"]\n    backend: mock\n"
      "  - name: models\n    path_prefix: /v1/models\n    backend: mock\n";
  Gateway gateway(standardConfig(mock.port(), k));
  Process node({NODE_BIN, std::string(NODE_TESTS_DIR) + "/openai_sdk_check.mjs",
                "http://127.0.0.1:" + std::to_string(gateway.port()) + "/v1"});
  auto done = node.waitForLine("all checks passed", std::chrono::seconds(30));
  auto status = node.wait(std::chrono::seconds(10));
  EXPECT_TRUE(done) << node.transcript() << node.stderrText();
  EXPECT_EQ(status, 0) << node.transcript() << node.stderrText();
}

// The SDK authenticates with a configured key and sees a rate limit as a
// RateLimitError with Retry-After and the x-ratelimit-* headers.
TEST(OpenAiSdk, KeysAndRateLimitsReachTheClient) {
  MockServer mock;
  const std::string key = "sk-sdk-team-0123456789abcdef";
  ConfigKnobs k;
  k.topLevel = "auth:\n  keys:\n    - name: sdk\n      key: ${SDK_KEY}\n      limits:\n        requests_per_minute: 3\n";
  Gateway gateway(standardConfig(mock.port(), k), {"SDK_KEY=" + key});
  Process node({NODE_BIN, std::string(NODE_TESTS_DIR) + "/openai_sdk_keys_check.mjs",
                "http://127.0.0.1:" + std::to_string(gateway.port()) + "/v1", key, "3"});
  auto done = node.waitForLine("all checks passed", std::chrono::seconds(30));
  auto status = node.wait(std::chrono::seconds(10));
  EXPECT_TRUE(done) << node.transcript() << node.stderrText();
  EXPECT_EQ(status, 0) << node.transcript() << node.stderrText();
}
