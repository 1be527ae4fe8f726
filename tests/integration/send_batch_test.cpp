// Sends and receives batched through io_uring (server.batch_sends,
// gateway/net/send_batch.hpp; server.batch_receives, read_prefetch.hpp): the
// workers use them, every answer reaches its own client while others come
// and go (a closed client's descriptor number is soon another's), and with
// the options off the gateway serves the same way without a ring.
#include <gtest/gtest.h>
#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

// Descriptors of `pid` that are io_uring instances.
int ringsOf(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  int rings = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      char target[256];
      const auto n = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
      if (n > 0 && std::string(target, static_cast<std::size_t>(n)) == "anon_inode:[io_uring]") ++rings;
    }
    ::closedir(d);
  }
  return rings;
}

// The rings of `pid` once it has `expected`, or after 2 s: each worker opens
// its rings as its thread starts, and the first request may be answered by one
// worker before another's thread has got there (seen in CI under load).
int ringsOnceOpened(pid_t pid, int expected) {
  int rings = ringsOf(pid);
  for (int i = 0; i < 200 && rings != expected; ++i) {
    ::usleep(10'000);
    rings = ringsOf(pid);
  }
  return rings;
}

// The models named in `body`'s "model" fields, each different from `own`.
int foreignModels(const std::string& body, const std::string& own) {
  int foreign = 0;
  const std::string key = "\"model\":\"";
  for (auto at = body.find(key); at != std::string::npos; at = body.find(key, at + 1)) {
    const auto from = at + key.size();
    if (body.compare(from, own.size() + 1, own + "\"") != 0) ++foreign;
  }
  return foreign;
}

}  // namespace

// One ring per worker for its sends and one for its receives
// (server.batch_receives, gateway/net/read_prefetch.hpp), each turned off on
// its own.
TEST(SendBatching, EachWorkerSendsAndReceivesThroughRingsUnlessTurnedOff) {
  MockServer mock;
  ConfigKnobs k;
  k.workers = 2;
  Gateway on(standardConfig(mock.port(), k));
  EXPECT_EQ(request(on.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200u);
  EXPECT_EQ(ringsOnceOpened(on.process().pid(), 4), 4);

  k.serverExtra = "  batch_receives: false\n";
  Gateway sendsOnly(standardConfig(mock.port(), k));
  EXPECT_EQ(request(sendsOnly.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200u);
  EXPECT_EQ(ringsOnceOpened(sendsOnly.process().pid(), 2), 2);

  k.serverExtra = "  batch_sends: false\n  batch_receives: false\n";
  Gateway off(standardConfig(mock.port(), k));
  Connection c(off.port());
  for (int i = 0; i < 20; ++i) {
    c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", i % 2 == 1), {"x-mock-tokens: 3"}));
    auto r = c.read();
    ASSERT_EQ(r.status, 200u);
    ASSERT_TRUE(r.complete);
  }
  EXPECT_EQ(ringsOf(off.process().pid()), 0);
}

// Clients that ask and stay, streaming or not, beside clients that send a
// request and reset at once: answers are queued and flushed in batches while
// descriptors close and are reused. Every answer carries its own request's
// model and nothing else, and the stayers all get theirs.
TEST(SendBatching, EveryAnswerReachesItsOwnClientWhileOthersLeave) {
  MockServer mock;
  ConfigKnobs k;
  k.workers = 2;
  Gateway gateway(standardConfig(mock.port(), k));
  constexpr int kStayers = 8, kLeavers = 4, kRounds = 60;
  std::atomic<int> answered{0}, foreign{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kStayers; ++t)
    threads.emplace_back([&, t] {
      Connection c(gateway.port());
      for (int i = 0; i < kRounds; ++i) {
        const std::string model = "mock-stayer-" + std::to_string(t) + "-" + std::to_string(i);
        const bool stream = (t + i) % 3 == 0;
        c.send(jsonPost("/v1/chat/completions", chatBody(model, stream), {"x-mock-tokens: 4"}));
        auto r = c.read();
        if (r.status != 200 || !r.complete || r.body.find(model) == std::string::npos) {
          ++failed;
          continue;
        }
        foreign += foreignModels(r.body, model);
        ++answered;
      }
    });
  for (int t = 0; t < kLeavers; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        Connection c(gateway.port());
        c.send(jsonPost("/v1/chat/completions", chatBody("mock-leaver-" + std::to_string(t), i % 2 == 0),
                        {"x-mock-tokens: 4"}));
        if (i % 3 == 0) usleep(200);  // sometimes after the answer started
        c.close();
      }
    });
  for (int t = 0; t < kStayers; ++t) threads[t].join();
  stop = true;
  for (auto& t : threads)
    if (t.joinable()) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(answered.load(), kStayers * kRounds);
  EXPECT_EQ(foreign.load(), 0);
  EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200u);
}
