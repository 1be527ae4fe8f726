// The client API keys read again while the gateway runs: on SIGHUP and when
// the keys file changes, a revoked key is refused, a new one admitted with its
// own limits and series, a stream in flight and a kept-alive connection carry
// on; a keys file with errors changes nothing and its errors are logged with
// their place.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/key_digest.hpp"

using namespace testsupport;

namespace {

const std::string kAlpha = "sk-alpha-0123456789abcdef";
const std::string kBeta = "sk-beta-fedcba9876543210";

std::string entry(const std::string& name, const std::string& key, const std::string& extra = "") {
  return "- name: " + name + "\n  sha256: " + sha256Hex(key) + "\n" + extra;
}

// Replaced by a rename, as editors and config management do.
void rewrite(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path + ".new");
    out << text;
  }
  std::rename((path + ".new").c_str(), path.c_str());
}

std::string chatWith(const std::string& key, bool stream = false, const std::string& extra = "") {
  std::vector<std::string> headers{"Authorization: Bearer " + key};
  if (!extra.empty()) headers.push_back(extra);
  return jsonPost("/v1/chat/completions", chatBody("mock-model", stream), headers);
}

// Polls until `key` gets `status` (up to 6 s: the file is looked at every 2 s).
bool waitForStatus(std::uint16_t port, const std::string& key, unsigned status) {
  for (int i = 0; i < 120; ++i) {
    if (request(port, chatWith(key)).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// A gateway whose keys come from a keys file holding `keys` at start.
struct KeysFileGateway {
  static std::string config(std::uint16_t mockPort, const std::string& keysFile, const std::string& moreAuth) {
    ConfigKnobs k;
    k.topLevel = "auth:\n  keys_file: " + keysFile + "\n" + moreAuth;
    return standardConfig(mockPort, k);
  }
  explicit KeysFileGateway(const std::string& keys, const std::string& moreAuth = "")
      : keysFile(writeTempFile(keys)), gw(config(mock.port(), keysFile, moreAuth)) {}
  MockServer mock;
  std::string keysFile;
  Gateway gw;
};

}  // namespace

TEST(KeysReload, SighupRevokesAndAddsKeysWhileAStreamAndAConnectionCarryOn) {
  KeysFileGateway g(entry("alpha", kAlpha));
  auto& gw = g.gw;
  const auto& keysFile = g.keysFile;
  Connection kept(gw.port());
  kept.send(chatWith(kAlpha));
  ASSERT_EQ(kept.read().status, 200);

  // A stream that lasts well past the reload (40 tokens, 50 ms apart).
  Response streamed;
  std::thread streaming([&] {
    streamed = request(gw.port(), chatWith(kAlpha, true, "x-mock-inter-token-ms: 50\r\nx-mock-tokens: 40"),
                       std::chrono::seconds(15));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rewrite(keysFile, entry("beta", kBeta, "  limits: {requests_per_minute: 2}\n"));
  gw.process().signal(SIGHUP);
  ASSERT_TRUE(waitForStatus(gw.port(), kBeta, 200)) << gw.process().stderrText();
  EXPECT_EQ(request(gw.port(), chatWith(kAlpha)).status, 401) << "a revoked key is refused";
  // The new key has its own limit: two a minute (one was taken above).
  EXPECT_EQ(request(gw.port(), chatWith(kBeta)).status, 200);
  EXPECT_EQ(request(gw.port(), chatWith(kBeta)).status, 429);
  // The connection kept alive across the reload still serves (now with beta).
  kept.send(chatWith(kBeta));
  EXPECT_EQ(kept.read().status, 429);
  streaming.join();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.complete);
  EXPECT_NE(streamed.body.find("data: [DONE]"), std::string::npos) << "the stream begun under alpha ended whole";

  // The stream is counted just after its last byte: wait for it.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = scrape(gw.adminPort());
    if (seriesValue(text, "infergate_key_requests_total{key=\"alpha\",route=\"chat\"}") >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(seriesValue(text, "infergate_auth_key_reloads_total{result=\"ok\"}"), 1);
  EXPECT_EQ(seriesValue(text, "infergate_auth_keys"), 1);
  // Both names keep their series: alpha's from before, beta's from now.
  EXPECT_EQ(seriesValue(text, "infergate_key_requests_total{key=\"alpha\",route=\"chat\"}"), 2);
  EXPECT_GE(seriesValue(text, "infergate_key_requests_total{key=\"beta\",route=\"chat\"}"), 2);
}

TEST(KeysReload, AChangedKeysFileIsReadWithoutASignal) {
  KeysFileGateway g(entry("alpha", kAlpha));
  auto& gw = g.gw;
  const auto& keysFile = g.keysFile;
  ASSERT_EQ(request(gw.port(), chatWith(kBeta)).status, 401);
  rewrite(keysFile, entry("alpha", kAlpha) + entry("beta", kBeta));
  EXPECT_TRUE(waitForStatus(gw.port(), kBeta, 200)) << gw.process().stderrText();
  EXPECT_EQ(request(gw.port(), chatWith(kAlpha)).status, 200);
}

TEST(KeysReload, AKeysFileWithErrorsChangesNothingAndSaysWhere) {
  KeysFileGateway g(entry("alpha", kAlpha), "  max_keys: 2\n");
  auto& gw = g.gw;
  const auto& keysFile = g.keysFile;
  // A digest too short, on line 4.
  rewrite(keysFile, entry("beta", kBeta) + "- name: gamma\n  sha256: abc\n");
  gw.process().signal(SIGHUP);
  for (int i = 0; i < 100 && gw.process().stderrText().find("keys not reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto log = gw.process().stderrText();
  EXPECT_NE(log.find(keysFile + ":4:"), std::string::npos) << log;
  EXPECT_EQ(request(gw.port(), chatWith(kAlpha)).status, 200) << "the keys in force were kept";
  EXPECT_EQ(request(gw.port(), chatWith(kBeta)).status, 401);

  // More names than auth.max_keys has ever room for: refused too.
  rewrite(keysFile, entry("beta", kBeta) + entry("gamma", "sk-gamma-0000111122223333"));
  gw.process().signal(SIGHUP);
  for (int i = 0; i < 100 && gw.process().stderrText().find("auth.max_keys") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(gw.process().stderrText().find("more than auth.max_keys (2)"), std::string::npos);
  EXPECT_EQ(request(gw.port(), chatWith(kAlpha)).status, 200);
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_auth_key_reloads_total{result=\"failed\"}"), 2);
  EXPECT_TRUE(gw.process().running());
}
