// Endpoints named by host are resolved again while the gateway runs
// (backends[].dns_refresh): when the name moves, new requests follow it and
// pooled connections to the old address are not reused; when it stops
// resolving, the last address stays in use. Names come from a hosts file the
// test controls, read through nss_wrapper (Debian libnss-wrapper) preloaded
// into the gateway: its resolver is the real getaddrinfo, unchanged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;
namespace fs = std::filesystem;

namespace {

// Names the test controls: a hosts file nss_wrapper reads in the gateway
// (with the passwd and group files it needs beside it).
class TestResolver {
 public:
  TestResolver() : dir_(unusedTempPath("")) {
    fs::create_directories(dir_);
    fs::copy_file("/etc/passwd", dir_ / "passwd");
    fs::copy_file("/etc/group", dir_ / "group");
  }
  ~TestResolver() { fs::remove_all(dir_); }
  // The hosts file's whole text, replaced by a rename: nss_wrapper reads a file again when it is a new one.
  void answer(const std::string& text) {
    const auto next = (dir_ / "hosts.next").string();
    std::ofstream(next) << text;
    fs::rename(next, dir_ / "hosts");
  }
  // The gateway's environment to resolve through it.
  std::vector<std::string> environment() const {
    return {"LD_PRELOAD=libnss_wrapper.so", "NSS_WRAPPER_HOSTS=" + (dir_ / "hosts").string(),
            "NSS_WRAPPER_PASSWD=" + (dir_ / "passwd").string(), "NSS_WRAPPER_GROUP=" + (dir_ / "group").string()};
  }

 private:
  fs::path dir_;
};

std::uint16_t portOf(Process& mock) {
  auto line = mock.waitForLine("listening on");
  if (!line) throw std::runtime_error("mock did not start: " + mock.stderrText());
  std::smatch m;
  if (!std::regex_search(*line, m, std::regex(R"(listening on [0-9.]+:(\d+))"))) throw std::runtime_error(*line);
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

}  // namespace

TEST(EndpointDns, ANameThatMovesIsFollowedAndAFailedResolutionKeepsTheLastAddress) {
  TestResolver names;
  // Two model servers on the same port at two loopback addresses; the second answers with refusals.
  Process a({mockBinary(), "--listen", "127.0.0.2:0"});
  const auto port = portOf(a);
  Process b({mockBinary(), "--listen", "127.0.0.3:" + std::to_string(port), "--output", "refusal"});
  portOf(b);
  names.answer("127.0.0.2 model.infergate.test\n");

  ConfigKnobs k;
  k.backendExtra = "    dns_refresh: 200ms\n";
  auto yaml = standardConfig(port, k);
  const std::string literal = "http://127.0.0.1:" + std::to_string(port);
  yaml.replace(yaml.find(literal), literal.size(), "http://model.infergate.test:" + std::to_string(port));
  Gateway gw(yaml, names.environment());
  Connection c(gw.port());  // one keep-alive client connection throughout
  // Which server answered: the answer's text (the second one refuses).
  const auto chat = [&] {
    c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
    const auto r = c.read();
    if (r.status != 200) return "status " + std::to_string(r.status);
    return std::string(boost::json::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
  };
  const auto first = chat();
  ASSERT_NE(first.find("mock model"), std::string::npos) << first << gw.process().stderrText();

  // The name moves: within a few refreshes new requests reach the new address.
  names.answer("127.0.0.3 model.infergate.test\n");
  std::string body = first;
  for (int i = 0; i < 100 && body == first; ++i) {
    usleep(30'000);
    body = chat();
    ASSERT_EQ(body.rfind("status ", 0), std::string::npos) << body;
  }
  ASSERT_NE(body, first) << "requests never reached the new address\n" << gw.process().stderrText();
  // Every request after goes there: the pooled connection to the old address is not reused.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chat(), body);
  const auto log = gw.process().stderrText();
  EXPECT_NE(log.find("model.infergate.test:" + std::to_string(port) + " now resolves to 127.0.0.3 (was 127.0.0.2)"),
            std::string::npos)
      << log;

  // The name stops resolving: the address in use stays, and requests go on.
  names.answer("127.0.0.9 other.infergate.test\n");
  const auto failedSeries = "infergate_dns_resolutions_total{backend=\"mock\",endpoint=\"model.infergate.test:" +
                            std::to_string(port) + "\",result=\"failed\"}";
  for (int i = 0; i < 100 && seriesValue(scrape(gw.adminPort()), failedSeries) < 2; ++i) usleep(30'000);
  const auto text = scrape(gw.adminPort());
  EXPECT_GE(seriesValue(text, failedSeries), 2) << text;
  EXPECT_EQ(chat(), body);
  const auto failures = gw.process().stderrText();
  EXPECT_NE(failures.find("cannot resolve model.infergate.test"), std::string::npos);
  EXPECT_NE(failures.find("keeping 127.0.0.3"), std::string::npos);
  // Logged once per outage, not at every refresh.
  EXPECT_EQ(failures.find("cannot resolve model.infergate.test", failures.find("cannot resolve model.infergate.test") + 1),
            std::string::npos);
}

// resolve: all. A headless Service's name answers one address per pod: each
// is an endpoint of the backend, new pods join within a refresh, pods that
// go are drained, and a failed resolution keeps the last set.
TEST(EndpointDns, AHeadlessServiceIsAnEndpointPerAddressFollowedAsPodsComeAndGo) {
  TestResolver names;
  // Three "pods" on one port, told apart by their answers.
  Process a({mockBinary(), "--listen", "127.0.0.2:0"});
  const auto port = portOf(a);
  const auto at = [port](int last) { return "127.0.0." + std::to_string(last) + ":" + std::to_string(port); };
  Process b({mockBinary(), "--listen", at(3), "--output", "refusal"});
  portOf(b);
  Process c({mockBinary(), "--listen", at(4), "--output", "loop"});
  portOf(c);
  names.answer("127.0.0.2 pods.infergate.test\n127.0.0.3 pods.infergate.test\n");

  ConfigKnobs k;
  k.backendExtra = "    dns_refresh: 200ms\n";
  auto yaml = standardConfig(port, k);
  const std::string line = "      - url: http://127.0.0.1:" + std::to_string(port) + "\n";
  yaml.replace(yaml.find(line), line.size(),
               "      - url: http://pods.infergate.test:" + std::to_string(port) + "\n        resolve: all\n");
  Gateway gw(yaml, names.environment());
  const auto answer = [&] {
    const auto r = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
    if (r.status != 200) return "status " + std::to_string(r.status);
    return std::string(boost::json::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
  };
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) seen[answer()]++;
  ASSERT_EQ(seen.size(), 2u) << gw.process().stderrText();  // both pods, round robin
  for (const auto& [text, n] : seen) EXPECT_EQ(n, 5) << text;
  const std::string normal = seen.begin()->first.find("mock model") != std::string::npos ? seen.begin()->first
                                                                                          : std::next(seen.begin())->first;
  auto text = scrape(gw.adminPort());
  const auto state = [&](int last) { return R"(infergate_circuit_state{backend="mock",endpoint=")" + at(last) + "\"}"; };
  EXPECT_EQ(seriesValue(text, state(2)), 0) << text;
  EXPECT_EQ(seriesValue(text, state(3)), 0);

  // Pod .2 goes, pod .4 comes.
  names.answer("127.0.0.3 pods.infergate.test\n127.0.0.4 pods.infergate.test\n");
  std::map<std::string, int> after;
  for (int i = 0; i < 100; ++i) {
    usleep(30'000);
    after.clear();
    for (int j = 0; j < 4; ++j) after[answer()]++;
    if (after.count(normal) == 0 && after.size() == 2) break;
  }
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count(normal), 0u) << "the pod that went still gets requests";
  for (const auto& [t, n] : after) EXPECT_EQ(t.rfind("status ", 0), std::string::npos) << t;
  text = scrape(gw.adminPort());
  EXPECT_EQ(text.find(state(2)), std::string::npos) << text;
  EXPECT_EQ(seriesValue(text, state(4)), 0) << text;
  const auto log = gw.process().stderrText();
  EXPECT_NE(log.find("pods.infergate.test:" + std::to_string(port) + " now resolves to 2 address(es)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("endpoints added: mock/" + at(4)), std::string::npos) << log;
  EXPECT_NE(log.find("endpoints removed (drained): mock/" + at(2)), std::string::npos) << log;

  // The name stops resolving: both pods stay in use.
  names.answer("127.0.0.9 other.infergate.test\n");
  const auto failedSeries = R"(infergate_dns_resolutions_total{backend="mock",endpoint=")" + at(4) + R"(",result="failed"})";
  for (int i = 0; i < 100 && seriesValue(scrape(gw.adminPort()), failedSeries) < 2; ++i) usleep(30'000);
  EXPECT_GE(seriesValue(scrape(gw.adminPort()), failedSeries), 2);
  std::map<std::string, int> kept;
  for (int i = 0; i < 6; ++i) kept[answer()]++;
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& [t, n] : kept) {
    EXPECT_EQ(after.count(t), 1u) << t;
    EXPECT_EQ(n, 3) << t;
  }
}
