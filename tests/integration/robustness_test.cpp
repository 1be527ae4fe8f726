// Bad input never crashes the gateway nor disturbs other clients' requests.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

std::string mutate(std::string request, std::mt19937& rng) {
  std::uniform_int_distribution<int> kind(0, 5);
  std::uniform_int_distribution<int> byte(0, 255);
  auto pos = [&request](std::mt19937& r) { return static_cast<std::size_t>(r() % request.size()); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (kind(rng)) {
      case 0: request[pos(rng)] = static_cast<char>(byte(rng)); break;          // flip a byte
      case 1: request.erase(pos(rng), 1 + rng() % 8); break;                    // drop bytes
      case 2: request.insert(pos(rng), "\r\n"); break;                          // break a line
      case 3: request.insert(pos(rng), std::string(1 + rng() % 4, ' ')); break;  // stray spaces
      case 4: request.insert(pos(rng), ":"); break;
      case 5: request = request.substr(0, pos(rng)); break;                     // truncate
    }
    if (request.empty()) request = "X";
  }
  return request;
}

}  // namespace

TEST(Robustness, MalformedTrafficNeverCrashesOrLeaksIntoOtherRequests) {
  MockServer mock;
  ConfigKnobs k;
  k.headerRead = "200ms";
  k.bodyRead = "200ms";
  k.keepaliveIdle = "60s";  // the steady client below waits between its requests
  Gateway gateway(standardConfig(mock.port(), k));
  std::mt19937 rng(20261122);  // fixed seed: the same inputs on every run
  const std::string valid = jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"x-mock-tokens: 3"});
  const std::set<unsigned> allowed{0, 200, 400, 404, 408, 413, 431, 502, 504};

  // A well-behaved client streams throughout; its bytes must come through intact.
  Connection steady(gateway.port());
  for (int i = 0; i < 240; ++i) {
    std::string raw;
    if (i % 4 == 0) {
      raw.resize(1 + rng() % 512);
      for (auto& c : raw) c = static_cast<char>(rng());
    } else {
      raw = mutate(valid, rng);
    }
    Connection c(gateway.port());
    c.send(raw);
    auto r = c.read(std::chrono::milliseconds(500));
    EXPECT_TRUE(allowed.count(r.status)) << "status " << r.status << " for input #" << i;
    if (i % 30 == 0) {
      steady.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"x-mock-tokens: 5"}));
      auto ok = steady.read();
      ASSERT_EQ(ok.status, 200);
      ASSERT_TRUE(ok.complete);
      std::string hs;
      for (auto& [n, v] : ok.headers) hs += n + ": " + v + "\n";
      EXPECT_NE(ok.body.find("data: [DONE]"), std::string::npos) << "input #" << i << "\n" << hs << ok.body;
    }
  }
  EXPECT_TRUE(gateway.process().running());
  auto last = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(last.status, 200);
}

TEST(Concurrency, ParallelStreamsEachGetExactlyTheirOwnBytes) {
  MockServer mock({"--threads", "2"});
  ConfigKnobs k;
  k.workers = 2;
  Gateway gateway(standardConfig(mock.port(), k));
  constexpr int kClients = 24;
  std::vector<std::thread> clients;
  std::vector<std::string> failures(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      try {
        Connection c(gateway.port());
        for (int round = 0; round < 3; ++round) {
          const int tokens = 5 + i + round * 7;  // every client and round expects a different count
          const std::string id = "client-" + std::to_string(i) + "-" + std::to_string(round);
          c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                          {"x-mock-tokens: " + std::to_string(tokens), "x-mock-inter-token-ms: 2",
                           "x-request-id: " + id}));
          auto r = c.read();
          int events = 0;
          for (auto p = r.body.find("\"content\":"); p != std::string::npos; p = r.body.find("\"content\":", p + 1))
            ++events;
          if (r.status != 200 || !r.complete || events != tokens || r.header("x-request-id") != id ||
              r.body.find("data: [DONE]") == std::string::npos)
            failures[i] = id + ": status " + std::to_string(r.status) + ", events " + std::to_string(events);
        }
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(failures[i], "") << "client " << i;
}
