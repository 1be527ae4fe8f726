// When the gateway itself runs out of file descriptors, that is the gateway's
// overload, not the model server's failure: the excess gets 503 overloaded,
// the endpoint's breaker stays closed, and service comes back as soon as the
// clients leave. The gateway runs under a small descriptor limit (prlimit).
//
// The test fills the gateway's descriptor table itself, one idle client
// connection at a time, watching /proc/<pid>/fd, so that exactly a few
// descriptors are left for upstream connections whatever the host's timing.
#include <dirent.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

constexpr int kDescriptorLimit = 48;
constexpr int kLeftForUpstreams = 3;

std::string chatRequest() { return jsonPost("/v1/chat/completions", chatBody("mock-model")); }

// Descriptors numbered under the limit: the ones that take the room new
// sockets need (one inherited from the test above the limit does not).
int openDescriptors(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.' && std::atoi(e->d_name) < kDescriptorLimit) ++n;
  }
  ::closedir(d);
  return n;
}

// Waits until the gateway holds more than `before` descriptors; false after 2 s.
bool descriptorsGrewPast(pid_t pid, int before) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (openDescriptors(pid) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

std::string errorCode(const Response& r) {
  try {
    return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
  } catch (...) {
    return "";
  }
}

}  // namespace

TEST(ResourceLimits, RunningOutOfDescriptorsIsTheGatewaysOverloadNotTheEndpointsFailure) {
  MockServer mock;
  ConfigKnobs k;
  k.backendExtra = "    circuit_breaker: {consecutive_failures: 3}\n";
  const std::string limit = std::to_string(kDescriptorLimit);
  Gateway gateway(standardConfig(mock.port(), k), {}, {"/usr/bin/prlimit", "--nofile=" + limit + ":" + limit, "--"});
  EXPECT_NE(gateway.process().stderrText().find("open_files=" + limit), std::string::npos);
  ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?latency-ms=300", "{}")).status, 200);
  const pid_t pid = gateway.process().pid();

  // Idle clients take the table down to a few free descriptors.
  std::vector<std::unique_ptr<Connection>> clients;
  while (openDescriptors(pid) < kDescriptorLimit - kLeftForUpstreams) {
    const int before = openDescriptors(pid);
    ASSERT_GE(before, 0) << "cannot read the gateway's descriptors";
    clients.push_back(std::make_unique<Connection>(gateway.port()));
    ASSERT_TRUE(descriptorsGrewPast(pid, before)) << "the gateway did not accept client " << clients.size();
  }
  ASSERT_GT(clients.size(), std::size_t{kLeftForUpstreams}) << "the gateway's own descriptors left no room";

  // Every client asks at once: a few get an upstream connection, the rest
  // find no descriptor for one and are told the gateway is overloaded.
  for (auto& c : clients) c->send(chatRequest());
  int ok = 0, overloaded = 0, other = 0;
  for (auto& c : clients) {
    const Response r = c->read(std::chrono::seconds(10));
    if (r.status == 200) ++ok;
    else if (r.status == 503 && errorCode(r) == "overloaded") ++overloaded;
    else ++other;
  }
  EXPECT_EQ(other, 0) << "every client gets a 200 or a 503 overloaded";
  EXPECT_GT(ok, 0);
  EXPECT_LE(ok, kLeftForUpstreams) << "more upstream connections than free descriptors";
  EXPECT_GT(overloaded, 0);

  // The table is full again (the upstream connections stay pooled): a new
  // client waits in the backlog while accept backs off, and is served as soon
  // as the others leave.
  Connection late(gateway.port());
  late.send(chatRequest());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?latency-ms=0", "{}")).status, 200);
  clients.clear();
  EXPECT_EQ(late.read(std::chrono::seconds(10)).status, 200) << "service did not come back when clients left";

  // The endpoint was never at fault: its breaker is closed and it serves at once.
  auto backends = boost::json::parse(request(gateway.adminPort(), simpleGet("/admin/backends")).body);
  const auto& endpoint = backends.at("backends").as_array()[0].at("endpoints").as_array()[0];
  EXPECT_EQ(endpoint.at("state").as_string(), "closed");
  EXPECT_EQ(request(gateway.port(), chatRequest(), std::chrono::seconds(10)).status, 200);
  const auto text = scrapeAfter(gateway.adminPort(), ok + overloaded + 2);
  EXPECT_EQ(seriesValue(text, R"(infergate_failures_total{route="chat",backend="mock",cause="gateway_resources_exhausted"})"),
            overloaded);
  EXPECT_EQ(seriesValue(text, R"(infergate_failures_total{route="chat",backend="mock",cause="upstream_connect_error"})"), 0);
}
