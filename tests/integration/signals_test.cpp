// Model-server signals: each endpoint's /metrics is scraped off the request
// path, its queue and KV-cache use are exported beside infergate's metrics,
// least_load sends traffic away from loaded servers, and a scrape that fails
// or grows stale makes that server's load unknown (least_request), never zero.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <boost/json/parse.hpp>
#include <map>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

std::uint64_t served(MockServer& mock) { return mock.stats().at("requests").to_number<std::uint64_t>(); }

void set(MockServer& mock, const std::string& query) {
  ASSERT_EQ(request(mock.port(), jsonPost("/debug/set?" + query, "{}")).status, 200);
}

std::string labels(MockServer& mock) {
  return R"({backend="mock",endpoint="127.0.0.1:)" + std::to_string(mock.port()) + "\"}";
}

// Waits until the gateway exports `series` with `value`.
bool waitFor(Gateway& gw, const std::string& series, double value) {
  for (int i = 0; i < 150; ++i) {
    if (seriesValue(scrape(gw.adminPort()), series) == value) return true;
    usleep(20'000);
  }
  return false;
}

}  // namespace

TEST(Signals, LeastLoadSendsTrafficAwayFromLoadedServersAndUnknownLoadFallsBack) {
  MockServer busy, some, idle;
  set(busy, "signal-waiting=10&signal-kv-permille=950");
  set(some, "signal-waiting=2");
  ConfigKnobs k;
  k.workers = 2;
  k.extraEndpointPorts = {some.port(), idle.port()};
  k.backendExtra = "    load_balancing: least_load\n"
                   "    signals: {kind: vllm, interval: 100ms, max_age: 400ms, max_kv_cache: 0.9}\n";
  Gateway gw(standardConfig(busy.port(), k));
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(busy), 10)) << scrape(gw.adminPort());
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(some), 2));
  auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_backend_kv_cache_usage" + labels(busy)), 0.95);
  EXPECT_EQ(seriesValue(text, "infergate_backend_requests_waiting" + labels(idle)), 0);
  EXPECT_EQ(served(busy) + served(some) + served(idle), 0u);  // scrapes are not model traffic

  // One at a time: every request goes to the idle server.
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_EQ(served(idle), 10u);

  // Twelve at once, each 400 ms: the idle one fills up to the others' load;
  // the one over the KV-cache bound gets none while others can take them.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&] {
      const auto r = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 400"}));
      if (r.status == 200) ok.fetch_add(1);
    });
    usleep(5'000);
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(served(busy), 0u);
  EXPECT_GT(served(idle) - 10, served(some)) << served(idle) << " " << served(some);
  EXPECT_GT(served(some), 0u);

  // The busy server's scrape fails: once its reading is older than max_age
  // its load is unknown, it is chosen by in-flight count again, and its gauges go.
  set(busy, "metrics-status=500");
  for (int i = 0; i < 100; ++i) {
    text = scrape(gw.adminPort());
    if (text.find("infergate_backend_requests_waiting" + labels(busy)) == std::string::npos) break;
    usleep(20'000);
  }
  EXPECT_EQ(text.find("infergate_backend_requests_waiting" + labels(busy)), std::string::npos) << text;
  EXPECT_GE(seriesValue(text, R"(infergate_backend_signals_scrapes_total{backend="mock",endpoint="127.0.0.1:)" +
                                  std::to_string(busy.port()) + R"(",result="failed"})"),
            1);
  EXPECT_GT(seriesValue(text, "infergate_backend_signals_age_seconds" + labels(busy)), 0.4);
  set(some, "signal-waiting=0");
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(some), 0));
  for (int i = 0; i < 30; ++i)
    ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_GT(served(busy), 0u) << "an unknown load must not keep a server out";
  const auto log = gw.process().stderrText();
  EXPECT_NE(log.find("signals: cannot read /metrics of 127.0.0.1:" + std::to_string(busy.port())), std::string::npos) << log;

  // /admin/backends shows what each server said.
  const auto backends = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/backends")).body);
  const auto& endpoints = backends.at("backends").at(0).at("endpoints").as_array();
  std::map<std::string, boost::json::value> byName;
  for (const auto& e : endpoints) byName[std::string(e.at("endpoint").as_string())] = e.at("signals");
  EXPECT_EQ(byName.at("127.0.0.1:" + std::to_string(busy.port())).at("fresh").as_bool(), false);
  EXPECT_TRUE(byName.at("127.0.0.1:" + std::to_string(busy.port())).at("requests_waiting").is_null());
  EXPECT_EQ(byName.at("127.0.0.1:" + std::to_string(some.port())).at("fresh").as_bool(), true);
}

// Every server says its queue is over shed_waiting: new requests go to the
// fallback, or get 503 overloaded with Retry-After when there is none; as
// soon as one server is under the bound again, it is served.
TEST(Signals, ABackendWhoseServersAreAllOverTheBoundShedsItsRequests) {
  MockServer a, b, spare;
  set(a, "signal-waiting=9");
  set(b, "signal-waiting=12");
  ConfigKnobs k;
  k.extraEndpointPorts = {b.port()};
  k.backendExtra = "    signals: {kind: vllm, interval: 100ms, shed_waiting: 8}\n";
  const auto spareBackend = "  - name: spare\n    endpoints: [{url: 'http://127.0.0.1:" + std::to_string(spare.port()) + "'}]\n";
  k.routes = spareBackend +
             "routes:\n"
             "  - name: chat\n    path_prefix: /v1/chat/\n    backend: mock\n"
             "  - name: batch\n    path_prefix: /v1/completions\n    backend: mock\n    fallbacks: [spare]\n";
  Gateway gw(standardConfig(a.port(), k));
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(b), 12));
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(a), 9));

  const auto refused = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("\"code\":\"overloaded\""), std::string::npos) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "1");
  const std::string completion = R"({"model":"mock-model","prompt":"hello"})";
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/completions", completion)).status, 200);
  EXPECT_EQ(served(spare), 1u);  // the fallback took it
  EXPECT_EQ(served(a) + served(b), 0u);
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), R"(infergate_backend_shed_total{backend="mock"})"), 2);

  // One server below the bound again: served, by it.
  set(a, "signal-waiting=8");
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(a), 8));
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_EQ(served(a) + served(b), 1u);
}

// Requests that open alike (the same system prompt and first turn) go to the
// same server, whose prefix cache holds that opening, until it is loaded
// past the bound; then they go to the least loaded one.
TEST(Signals, APromptPrefixKeepsItsServerUntilItIsTooLoaded) {
  MockServer a, b, c;
  ConfigKnobs k;
  k.extraEndpointPorts = {b.port(), c.port()};
  k.backendExtra = "    load_balancing: least_load\n"
                   "    signals: {kind: vllm, interval: 100ms, prefix_affinity: 1.5}\n";
  Gateway gw(standardConfig(a.port(), k));
  for (auto* m : {&a, &b, &c}) ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(*m), 0));
  const auto chatWith = [&](const std::string& system, const std::string& turn) {
    const std::string body = R"({"model":"mock-model","messages":[{"role":"system","content":")" + system +
                             R"("},{"role":"user","content":"hello"},{"role":"assistant","content":"hi"},)"
                             R"({"role":"user","content":")" + turn + R"("}]})";
    return request(gw.port(), jsonPost("/v1/chat/completions", body)).status;
  };
  // One opening, later turns differing: all on one server.
  for (int i = 0; i < 9; ++i) ASSERT_EQ(chatWith("You are the billing assistant.", "question " + std::to_string(i)), 200);
  std::vector<MockServer*> servers{&a, &b, &c};
  MockServer* home = nullptr;
  for (auto* m : servers)
    if (served(*m) == 9) home = m;
  ASSERT_NE(home, nullptr) << served(a) << " " << served(b) << " " << served(c);
  // Other openings spread (with three servers, twelve of them do not all land on one).
  for (int i = 0; i < 12; ++i) ASSERT_EQ(chatWith("You are assistant " + std::to_string(i) + ".", "hi"), 200);
  int used = 0;
  for (auto* m : servers) used += served(*m) > (m == home ? 9u : 0u);
  EXPECT_GE(used, 2);

  // Its server reports a queue: past 1.5 x the least loaded + 1, the opening moves.
  set(*home, "signal-waiting=5");
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(*home), 5));
  const auto before = served(*home);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(chatWith("You are the billing assistant.", "later " + std::to_string(i)), 200);
  EXPECT_EQ(served(*home), before);
  const auto text = scrape(gw.adminPort());
  EXPECT_GE(seriesValue(text, R"(infergate_prefix_affinity_total{backend="mock",result="kept"})"), 9);
  EXPECT_EQ(seriesValue(text, R"(infergate_prefix_affinity_total{backend="mock",result="moved"})"), 5);
  // The queue drains: it comes home.
  set(*home, "signal-waiting=0");
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(*home), 0));
  ASSERT_EQ(chatWith("You are the billing assistant.", "again"), 200);
  EXPECT_EQ(served(*home), before + 1);
}

// The mock model server's batch is a real queue (the balancing benchmark
// depends on it): beyond --batch, requests wait their turn and the time is
// paid by the client; the gateway exports that queue as the server reports it.
TEST(Signals, AServersRealQueueIsExportedAndItsClientsWaitTheirTurn) {
  MockServer mock({"--batch", "1"});
  ConfigKnobs k;
  k.backendExtra = "    signals: {kind: vllm, interval: 50ms}\n";
  Gateway gw(standardConfig(mock.port(), k));
  ASSERT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(mock), 0));
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  std::vector<double> finishedAfterMs(3, 0);
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, i] {
      const auto r = request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 400"}));
      if (r.status == 200) ok.fetch_add(1);
      finishedAfterMs[static_cast<std::size_t>(i)] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    });
  }
  EXPECT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(mock), 2)) << scrape(gw.adminPort());
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_backend_requests_running" + labels(mock)), 1);
  EXPECT_EQ(seriesValue(text, "infergate_backend_kv_cache_usage" + labels(mock)), 1);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 3);
  // One at a time: the last answer cannot come before three service times.
  EXPECT_GE(*std::max_element(finishedAfterMs.begin(), finishedAfterMs.end()), 1200);
  EXPECT_TRUE(waitFor(gw, "infergate_backend_requests_waiting" + labels(mock), 0));
  EXPECT_TRUE(waitFor(gw, "infergate_backend_requests_running" + labels(mock), 0));
}
