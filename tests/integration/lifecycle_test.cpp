// The process: command line, config checking, readiness and graceful drain.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

TEST(Cli, VersionAndHelp) {
  Process version({gatewayBinary(), "--version"});
  auto line = version.waitForLine("infergate");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->rfind("infergate 0.", 0), 0u);
  EXPECT_EQ(version.wait(std::chrono::seconds(5)), 0);
  Process help({gatewayBinary(), "--help"});
  EXPECT_TRUE(help.waitForLine("--check"));
  EXPECT_EQ(help.wait(std::chrono::seconds(5)), 0);
  Process none({gatewayBinary()});
  EXPECT_EQ(none.wait(std::chrono::seconds(5)), 2);
}

TEST(Cli, CheckAcceptsValidConfig) {
  auto path = writeTempFile(standardConfig(8000));
  Process check({gatewayBinary(), "--config", path, "--check"});
  EXPECT_TRUE(check.waitForLine("configuration is valid"));
  EXPECT_EQ(check.wait(std::chrono::seconds(5)), 0);
  unlink(path.c_str());
}

TEST(Cli, CheckRejectsBadConfigWithPositions) {
  auto path = writeTempFile(standardConfig(8000) + "bogus_section: 1\n");
  Process check({gatewayBinary(), "--config", path, "--check"});
  EXPECT_EQ(check.wait(std::chrono::seconds(5)), 1);
  auto err = check.stderrText();
  EXPECT_NE(err.find(path + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key 'bogus_section'"), std::string::npos) << err;
  // Without --check a bad config never starts a gateway either.
  Process start({gatewayBinary(), "--config", path});
  EXPECT_EQ(start.wait(std::chrono::seconds(5)), 1);
  unlink(path.c_str());
}

TEST(Cli, CheckWarnsOfEndpointNamesItCannotResolveButAStartFails) {
  auto yaml = standardConfig(8000);
  yaml.replace(yaml.find("http://127.0.0.1:8000"), std::string("http://127.0.0.1:8000").size(),
               "http://model.cluster-only.invalid:8000");
  auto path = writeTempFile(yaml);
  Process check({gatewayBinary(), "--config", path, "--check"});
  EXPECT_TRUE(check.waitForLine("configuration is valid"));
  EXPECT_EQ(check.wait(std::chrono::seconds(5)), 0);
  EXPECT_NE(check.stderrText().find("warning: backend 'mock': cannot resolve model.cluster-only.invalid:8000"),
            std::string::npos)
      << check.stderrText();
  Process start({gatewayBinary(), "--config", path});
  EXPECT_EQ(start.wait(std::chrono::seconds(5)), 1);
  EXPECT_NE(start.stderrText().find("cannot resolve model.cluster-only.invalid:8000"), std::string::npos);
  unlink(path.c_str());
}

TEST(Lifecycle, HealthAndReadiness) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  EXPECT_EQ(request(gateway.adminPort(), simpleGet("/healthz")).status, 200);
  EXPECT_EQ(request(gateway.adminPort(), simpleGet("/readyz")).status, 200);
  EXPECT_EQ(request(gateway.adminPort(), simpleGet("/nope")).status, 404);
}

TEST(Lifecycle, DrainLetsOpenStreamFinishThenExitsZero) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  Connection idle(gateway.port());  // an idle keep-alive connection: closed at drain start
  idle.send(simpleGet("/v1/models"));
  ASSERT_EQ(idle.read().status, 200);

  Connection stream(gateway.port());
  stream.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                       {"x-mock-tokens: 8", "x-mock-inter-token-ms: 100"}));
  usleep(150'000);
  gateway.process().signal(SIGTERM);
  usleep(100'000);
  EXPECT_EQ(request(gateway.adminPort(), simpleGet("/readyz")).status, 503);
  EXPECT_TRUE(idle.waitClosed(std::chrono::seconds(2)));
  EXPECT_THROW(Connection refused(gateway.port()), std::runtime_error);  // no longer accepting
  auto r = stream.read(std::chrono::seconds(5));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(r.header("connection"), "");  // the head went out before the drain began
  EXPECT_EQ(gateway.process().wait(std::chrono::seconds(3)), 0) << gateway.process().stderrText();
}

TEST(Lifecycle, DrainTimeoutEndsStreamsAndWaitingRequestsWithTheirCause) {
  MockServer mock;
  ConfigKnobs k;
  k.drain = "300ms";
  k.firstToken = "10s";
  Gateway gateway(standardConfig(mock.port(), k));
  Connection stream(gateway.port());
  stream.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                       {"x-mock-tokens: 100", "x-mock-inter-token-ms: 100"}));
  // An answer that has not started when the time runs out.
  Connection waiting(gateway.port());
  waiting.send(jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 5000"}));
  usleep(150'000);
  auto started = std::chrono::steady_clock::now();
  gateway.process().signal(SIGTERM);
  EXPECT_EQ(gateway.process().wait(std::chrono::seconds(3)), 0) << gateway.process().stderrText();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  // The stream ends cleanly with an SSE error event that says why, not a bare close.
  auto r = stream.read(std::chrono::seconds(1));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete) << r.body;
  EXPECT_NE(r.body.find("event: error\ndata: {\"error\":"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"draining\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  auto w = waiting.read(std::chrono::seconds(1));
  EXPECT_EQ(w.status, 503);
  EXPECT_NE(w.body.find("\"code\":\"draining\""), std::string::npos) << w.body;
  const auto log = gateway.process().stderrText();
  EXPECT_NE(log.find("drain timeout: ending 2 connections"), std::string::npos) << log;
}

TEST(Lifecycle, DrainDelayKeepsServingWhileNotReady) {
  MockServer mock;
  ConfigKnobs k;
  k.serverExtra = "  drain_delay: 700ms\n";
  Gateway gateway(standardConfig(mock.port(), k));
  gateway.process().signal(SIGTERM);
  usleep(150'000);
  // Not ready, so load balancers stop sending; but still serving whoever has not stopped yet.
  EXPECT_EQ(request(gateway.adminPort(), simpleGet("/readyz")).status, 503);
  EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_TRUE(gateway.process().running());
  // After the delay the listeners close and the process exits.
  EXPECT_EQ(gateway.process().wait(std::chrono::seconds(3)), 0) << gateway.process().stderrText();
  const auto log = gateway.process().stderrText();
  EXPECT_NE(log.find("/readyz answers 503; draining in 700 ms"), std::string::npos) << log;
  EXPECT_LT(log.find("/readyz answers 503"), log.find("draining: listeners closed"));
}

namespace {
// User plus system CPU time of a process, in clock ticks.
long cpuTicks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // from field 3 on
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}
}  // namespace

// Workers poll before sleeping while loaded (server.busy_poll_us, here the
// maximum): they must serve every request, go back to sleeping once traffic
// stops (a loop that never blocked would burn both workers' cores), and still
// stop on a drain.
TEST(Lifecycle, BusyPollingWorkersSleepWhenTrafficStops) {
  MockServer mock;
  ConfigKnobs k;
  k.workers = 2;
  k.serverExtra = "  busy_poll_us: 1000\n";
  Gateway gateway(standardConfig(mock.port(), k));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      Connection c(gateway.port());
      for (int i = 0; i < 300; ++i) {
        c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
        if (c.read().status == 200) ++ok;
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 1200);

  usleep(300'000);
  const long before = cpuTicks(gateway.process().pid());
  usleep(1'000'000);
  const long idle = cpuTicks(gateway.process().pid()) - before;
  EXPECT_LT(idle, sysconf(_SC_CLK_TCK) / 10) << "ticks of CPU in 1 s without traffic";

  gateway.process().signal(SIGTERM);
  EXPECT_EQ(gateway.process().wait(std::chrono::seconds(5)), 0) << gateway.process().stderrText();
}

namespace {

// The CPUs this test may run on, and a launcher that runs the gateway on the
// first of them alone.
cpu_set_t myCpuSet() {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  EXPECT_EQ(sched_getaffinity(0, sizeof(mine), &mine), 0);
  return mine;
}

int myCpus() {
  const cpu_set_t mine = myCpuSet();
  return CPU_COUNT(&mine);
}

std::vector<std::string> onOneCpu() {
  const cpu_set_t mine = myCpuSet();
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine)) ++cpu;
  EXPECT_LT(cpu, CPU_SETSIZE) << "no CPU in this test's affinity";
  return {"/usr/bin/taskset", "-c", std::to_string(cpu)};
}

}  // namespace

// Workers that share a CPU never poll: a polling worker spins on the CPU the
// other is waiting for (server.busy_poll_us needs a CPU per worker). The
// gateway runs under `taskset` on one CPU: with two workers it says polling
// is off, with one it does not; both serve.
TEST(Lifecycle, WorkersThatShareACpuDoNotPoll) {
  MockServer mock;
  const auto oneCpu = onOneCpu();
  for (unsigned workers : {2u, 1u}) {
    ConfigKnobs k;
    k.workers = workers;
    k.serverExtra = "  busy_poll_us: 1000\n";
    Gateway gateway(standardConfig(mock.port(), k), {}, oneCpu);
    EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
    const auto log = gateway.process().stderrText();
    const bool off = log.find("busy polling off") != std::string::npos;
    EXPECT_EQ(off, workers == 2) << workers << " worker(s) on one CPU:\n" << log;
    if (off) EXPECT_NE(log.find("workers=2 cpus=1"), std::string::npos) << log;
  }
}

// workers: 0 is one worker per CPU the process may run on, not per core of
// the machine: under `taskset` on one CPU, one worker (the quota's half is
// a unit test: CgroupTree).
TEST(Lifecycle, ZeroWorkersMeansOnePerCpuThatMayBeUsed) {
  MockServer mock;
  ConfigKnobs k;
  k.workers = 0;
  Gateway pinned(standardConfig(mock.port(), k), {}, onOneCpu());
  const auto& transcript = pinned.process().transcript();
  EXPECT_NE(transcript.find(" workers 1\n"), std::string::npos) << transcript;
  EXPECT_EQ(request(pinned.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  const int mine = myCpus();
  if (mine > 1) {  // and every CPU of its own affinity without taskset
    Gateway free(standardConfig(mock.port(), k));
    EXPECT_NE(free.process().transcript().find(" workers " + std::to_string(mine) + "\n"), std::string::npos)
        << free.process().transcript();
  }
}

// A second gateway on the address of a running one is refused (SO_REUSEPORT
// would have split the first one's traffic silently), unless asked to share.
TEST(Lifecycle, ASecondGatewayOnTheSameAddressIsRefusedUnlessAskedToShare) {
  MockServer mock;
  Gateway first(standardConfig(mock.port()));
  auto yaml = standardConfig(mock.port());
  const std::string ephemeral = "listen: 127.0.0.1:0\n  workers";
  yaml.replace(yaml.find(ephemeral), ephemeral.size(), "listen: 127.0.0.1:" + std::to_string(first.port()) + "\n  workers");
  auto path = writeTempFile(yaml);
  Process second({gatewayBinary(), "--config", path});
  EXPECT_EQ(second.wait(std::chrono::seconds(5)), 1);
  EXPECT_NE(second.stderrText().find("is already served by another process"), std::string::npos) << second.stderrText();
  EXPECT_NE(second.stderrText().find("share_listen_address"), std::string::npos);
  EXPECT_EQ(request(first.port(), simpleGet("/v1/models")).status, 200u);  // the first one is untouched

  auto shared = yaml;
  shared.replace(shared.find("  drain_timeout"), 0, "  share_listen_address: true\n");
  Gateway joined(shared);
  EXPECT_EQ(joined.port(), first.port());
  unlink(path.c_str());
}

// log.level drops the gateway's lines below it; a failed request's line names its request id.
TEST(Lifecycle, LogLevelDropsLinesBelowIt) {
  MockServer mock;
  for (const std::string level : {"warn", "error"}) {
    ConfigKnobs k;
    k.topLevel = "log:\n  level: " + level + "\n";
    Gateway gateway(standardConfig(mock.port(), k));
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("unknown-model"),
                                              {"x-request-id: log-test-1"}));
    EXPECT_EQ(r.status, 404);
    usleep(100'000);
    const auto err = gateway.process().stderrText();
    const bool logged = err.find("level=warn request_id=log-test-1 client=127.0.0.1 status=404 cause=no_route") !=
                        std::string::npos;
    EXPECT_EQ(logged, level == "warn") << level << ": " << err;
  }
}
