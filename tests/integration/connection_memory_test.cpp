// What an open connection costs the gateway in memory, measured on the real
// process (VmRSS from /proc): memory must follow the bytes in flight, not the
// number of connections. An idle keep-alive connection and a stream waiting
// for its next token hold no read, relay or write buffer (16 and 32 KiB each
// when they did).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"

using namespace testsupport;

namespace {

double residentKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return -1;
}

// Each connection holds one descriptor here and (streams) two in the gateway.
void raiseDescriptorLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

constexpr int kConnections = 1000;

std::string streamRequest(int tokens, int interTokenMs) {
  return jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: " + std::to_string(tokens), "x-mock-inter-token-ms: " + std::to_string(interTokenMs)});
}

}  // namespace

TEST(ConnectionMemory, IdleKeepAliveConnectionsHoldNoBuffers) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k;
  k.keepaliveIdle = "60s";
  Gateway gateway(standardConfig(mock.port(), k));
  const auto chat = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  // Two clients in three send a 40 KB or a 12 KB prompt before going idle:
  // their body's memory must not stay with the connection either.
  const auto promptOf = [](std::size_t bytes) {
    return jsonPost("/v1/chat/completions", R"({"model":"mock-model","messages":[{"role":"user","content":")" +
                                                std::string(bytes, 'p') + R"("}]})");
  };
  const std::string requests[3] = {chat, promptOf(40 * 1024), promptOf(12 * 1024)};
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), requests[i % 3]).status, 200);
  const double before = residentKiB(gateway.process().pid());

  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kConnections; ++i) {
    idle.push_back(std::make_unique<Connection>(gateway.port()));
    idle.back()->send(requests[i % 3]);
    ASSERT_EQ(idle.back()->read().status, 200) << i;
  }
  const double perConnection = (residentKiB(gateway.process().pid()) - before) / kConnections;
  // Measured 7.1-8.4 KiB: the session (parsers, record, filter states), its
  // socket and reactor state. A 16 KiB read buffer kept while waiting
  // measured 11.4 (only the pages a request was read into count as resident);
  // a 40 KB body's memory kept for the connection's next request, 27; a 12 KB
  // one's (up to 16 KiB were kept), 11.6-12.6.
  EXPECT_LT(perConnection, 9.5) << "KiB per idle keep-alive connection";
  RecordProperty("kib_per_idle_connection", std::to_string(perConnection));

  // They are still usable: the next request on each is answered.
  for (int i = 0; i < kConnections; i += 97) {
    idle[i]->send(chat);
    EXPECT_EQ(idle[i]->read().status, 200) << i;
  }
}

// A long JSON answer (its usage is read at its end, so it is kept while it
// comes) must not stay with the connection once it is relayed.
TEST(ConnectionMemory, IdleConnectionsKeepNothingOfALongAnswer) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k;
  k.keepaliveIdle = "60s";
  // Sampled answers go to the sample store, bounded by its own caps, not the
  // connection's (the filters' own copies: unit tests): sampling off here, so
  // what is measured is what each connection keeps.
  k.topLevel = "sampling: {rate: 0, always: {errors: false, anomalies: false}}\n";
  Gateway gateway(standardConfig(mock.port(), k));
  const auto chat = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  const auto longAnswer = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-tokens: 8000"});
  const auto first = request(gateway.port(), longAnswer);
  ASSERT_EQ(first.status, 200);
  ASSERT_GT(first.body.size(), 40u * 1024) << "the answer is not long: the test proves nothing";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), i % 2 ? chat : longAnswer).status, 200);
  const double before = residentKiB(gateway.process().pid());

  constexpr int kLong = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kLong; ++i) {
    idle.push_back(std::make_unique<Connection>(gateway.port()));
    idle.back()->send(longAnswer);
    const auto r = idle.back()->read();
    ASSERT_EQ(r.status, 200) << i;
    ASSERT_NE(r.body.find("\"usage\""), std::string::npos);
  }
  const double perConnection = (residentKiB(gateway.process().pid()) - before) / kLong;
  // Measured 5.5 KiB; 56 when the usage filter kept its copy of the answer
  // (62 with sampling on): the answer's bytes go back when it ends.
  EXPECT_LT(perConnection, 9.5) << "KiB per idle keep-alive connection after a long answer";
  RecordProperty("kib_per_idle_connection_after_long_answer", std::to_string(perConnection));
  // Usage was read from each whole answer.
  EXPECT_GE(seriesValue(scrape(gateway.adminPort()), R"(infergate_tokens_total{backend="mock",model="other",kind="completion"})"),
            8000.0 * kLong);
}

// An https:// endpoint: each request is joined into one TLS write. A long
// prompt's copy must not stay with the client's connection either.
TEST(ConnectionMemory, IdleConnectionsKeepNothingOfALongPromptSentOverTls) {
  raiseDescriptorLimit();
  MockServer mock(httpsMock("server"));
  ConfigKnobs k;
  k.keepaliveIdle = "60s";
  k.topLevel = "sampling: {rate: 0, always: {errors: false, anomalies: false}}\n";  // as above
  Gateway gateway(httpsConfig(mock.port(), "", k));
  const auto longChat = jsonPost("/v1/chat/completions", R"({"model":"mock-model","messages":[{"role":"user","content":")" +
                                                             std::string(40 * 1024, 'p') + R"("}]})");
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), longChat).status, 200);
  const double before = residentKiB(gateway.process().pid());

  constexpr int kLong = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kLong; ++i) {
    idle.push_back(std::make_unique<Connection>(gateway.port()));
    idle.back()->send(longChat);
    ASSERT_EQ(idle.back()->read().status, 200) << i;
  }
  const double perConnection = (residentKiB(gateway.process().pid()) - before) / kLong;
  EXPECT_LT(perConnection, 9.5) << "KiB per idle keep-alive connection after a long prompt to an https:// endpoint";
  RecordProperty("kib_per_idle_connection_after_long_tls_prompt", std::to_string(perConnection));
  EXPECT_EQ(mock.stats().at("requests").to_number<int>(), 20 + kLong);
}

// HTTPS clients: an idle TLS connection holds no TLS record buffers (OpenSSL
// keeps a read and a write buffer, 17 KiB each, unless told to release them;
// Asio's ssl::stream adds a BIO pair and two 17 KiB buffers of its own: the
// gateway's TlsStream has OpenSSL use the socket directly), nor anything of
// the long answer it was sent.
TEST(ConnectionMemory, IdleHttpsConnectionsHoldNoRecordBuffersNorTheirAnswer) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k;
  k.keepaliveIdle = "60s";
  k.topLevel = "sampling: {rate: 0, always: {errors: false, anomalies: false}}\n";  // as above
  k.serverExtra = "  tls:\n    listen: 127.0.0.1:0\n    cert_file: " + testCertDir() + "/server.crt\n    key_file: " +
                  testCertDir() + "/server.key\n";
  Gateway gateway(standardConfig(mock.port(), k));
  const auto line = gateway.process().waitForLine("https listening on");
  ASSERT_TRUE(line.has_value()) << gateway.process().stderrText();
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  const TlsClient tls{testCertDir() + "/ca.crt"};
  const auto chat = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  const auto longAnswer = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-tokens: 8000"});
  {
    Connection warm(port, tls);
    for (int i = 0; i < 20; ++i) {
      warm.send(i % 2 ? chat : longAnswer);
      ASSERT_EQ(warm.read().status, 200);
    }
  }
  const double before = residentKiB(gateway.process().pid());
  constexpr int kHttps = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kHttps; ++i) {
    idle.push_back(std::make_unique<Connection>(port, tls));
    idle.back()->send(i % 2 ? chat : longAnswer);
    const auto r = idle.back()->read();
    ASSERT_EQ(r.status, 200) << i;
    ASSERT_TRUE(r.complete) << i;
  }
  const double perConnection = (residentKiB(gateway.process().pid()) - before) / kHttps;
  // Measured 20 KiB: the session and the SSL object. 100 with Asio's
  // stream, 36 with ours while a waiting read held its 16 KiB buffer.
  EXPECT_LT(perConnection, 28) << "KiB per idle HTTPS keep-alive connection";
  RecordProperty("kib_per_idle_https_connection", std::to_string(perConnection));
  // Still usable: the next request on each is answered.
  for (int i = 0; i < kHttps; i += 97) {
    idle[i]->send(chat);
    EXPECT_EQ(idle[i]->read().status, 200) << i;
  }
}

// HTTPS streams: between tokens the client's connection is watched for a
// close without a read buffer, as over plain TCP.
TEST(ConnectionMemory, OpenHttpsStreamsHoldNoReadBufferBetweenTokens) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k;
  k.firstToken = "10s";
  k.idle = "10s";
  k.total = "30s";
  k.serverExtra = "  tls:\n    listen: 127.0.0.1:0\n    cert_file: " + testCertDir() + "/server.crt\n    key_file: " +
                  testCertDir() + "/server.key\n";
  Gateway gateway(standardConfig(mock.port(), k));
  const auto line = gateway.process().waitForLine("https listening on");
  ASSERT_TRUE(line.has_value()) << gateway.process().stderrText();
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  const TlsClient tls{testCertDir() + "/ca.crt"};
  {
    Connection warm(port, tls);
    for (int i = 0; i < 20; ++i) {
      warm.send(streamRequest(3, 0));
      ASSERT_EQ(warm.read().status, 200);
    }
  }
  // All of a stream's cost, its TLS connection's included: the connections
  // are opened (handshakes take a while) and then their streams started.
  const double before = residentKiB(gateway.process().pid());
  constexpr int kStreams = 300;
  std::vector<std::unique_ptr<Connection>> streams;
  for (int i = 0; i < kStreams; ++i) streams.push_back(std::make_unique<Connection>(port, tls));
  constexpr int kTokens = 12;
  const auto started = std::chrono::steady_clock::now();
  for (auto& s : streams) s->send(streamRequest(kTokens, 150));
  std::this_thread::sleep_until(started + std::chrono::milliseconds(900));
  const double during = residentKiB(gateway.process().pid());
  ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(kTokens * 150))
      << "the streams were not all open at the measurement: the test proves nothing";
  int complete = 0;
  for (auto& s : streams) {
    auto r = s->read(std::chrono::seconds(20));
    if (r.status == 200 && r.complete && r.body.find("[DONE]") != std::string::npos) ++complete;
  }
  EXPECT_EQ(complete, kStreams);
  const double perStream = (during - before) / kStreams;
  // Measured 32 KiB (the TLS connection's 20 and the stream's own); 44 when
  // the read that watches the client held its 16 KiB buffer.
  EXPECT_LT(perStream, 38.0) << "KiB per open HTTPS stream, its connection included";
  RecordProperty("kib_per_open_https_stream", std::to_string(perStream));
}

TEST(ConnectionMemory, OpenStreamsHoldMemoryForBytesInFlightOnly) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k;
  k.firstToken = "10s";
  k.idle = "10s";
  k.total = "30s";
  Gateway gateway(standardConfig(mock.port(), k));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), streamRequest(3, 0)).status, 200);
  const double before = residentKiB(gateway.process().pid());

  // 1,000 streams of 16 tokens 150 ms apart: all open together for over a second.
  constexpr int kTokens = 16;
  std::vector<std::unique_ptr<Connection>> streams;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kConnections; ++i) {
    streams.push_back(std::make_unique<Connection>(gateway.port()));
    streams.back()->send(streamRequest(kTokens, 150));
  }
  // Mid-stream: every stream has its head and some tokens, none has ended.
  std::this_thread::sleep_until(started + std::chrono::milliseconds(1200));
  const double during = residentKiB(gateway.process().pid());
  ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(kTokens * 150))
      << "the streams were not all open at the measurement: the test proves nothing";

  int complete = 0;
  for (auto& s : streams) {
    auto r = s->read(std::chrono::seconds(20));
    if (r.status == 200 && r.complete && r.body.find("[DONE]") != std::string::npos) ++complete;
  }
  EXPECT_EQ(complete, kConnections);
  const double perStream = (during - before) / kConnections;
  // Measured 9.7-10.2 KiB: the session, exchange, both sockets and their
  // waiting operations, the two heads' fields. A 32 KiB relay buffer held
  // between tokens (reused from the thread's cache, so resident) would add 32.
  EXPECT_LT(perStream, 12.0) << "KiB per open stream";
  RecordProperty("kib_per_open_stream", std::to_string(perStream));
}
