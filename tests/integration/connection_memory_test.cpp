// What an open connection costs the gateway in memory, measured on the real
// process (VmRSS from /proc): memory must follow the bytes in flight, not the
// number of connections. An idle keep-alive connection and a stream waiting
// for its next token hold no read, relay or write buffer (16 and 32 KiB each
// when they did).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"

using namespace testsupport;

namespace {

// A /proc/PID/status field in KiB: VmRSS (resident now) or VmHWM (its peak).
double statusKiB(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1));
  return -1;
}

double residentKiB(pid_t pid) { return statusKiB(pid, "VmRSS"); }

// Each connection holds one descriptor here and (streams) two in the gateway.
void raiseDescriptorLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

constexpr int kConnections = 1000;

// Sampled requests go to the sample store, bounded by its own caps, not the
// connection's (the filters' own copies have unit tests): with sampling off,
// what is measured is what each connection keeps.
constexpr const char* kNoSampling = "sampling: {rate: 0, always: {errors: false, anomalies: false}}\n";

// server.tls on a free port with the test CA's server certificate.
std::string httpsListener() {
  return "  tls:\n    listen: 127.0.0.1:0\n    cert_file: " + testCertDir() + "/server.crt\n    key_file: " +
         testCertDir() + "/server.key\n";
}

std::uint16_t httpsPort(Gateway& gateway) {
  const auto line = gateway.process().waitForLine("https listening on");
  if (!line) throw std::runtime_error("no https listener: " + gateway.process().stderrText());
  return static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
}

std::string promptOf(std::size_t bytes) {
  return jsonPost("/v1/chat/completions", R"({"model":"mock-model","messages":[{"role":"user","content":")" +
                                              std::string(bytes, 'p') + R"("}]})");
}

// Makes plain connections to the gateway, for the measurements below.
auto plainConnections(Gateway& gateway) {
  return [&gateway] { return std::make_unique<Connection>(gateway.port()); };
}

// Opens `count` keep-alive connections with `open()`, sends each
// `requestFor(i)` and reads its whole answer, and keeps them in `idle`:
// the gateway's resident memory grown per connection, in KiB.
template <class Open, class RequestFor>
double kibPerIdleConnection(Gateway& gateway, int count, Open open, RequestFor requestFor,
                            std::vector<std::unique_ptr<Connection>>& idle) {
  const double before = residentKiB(gateway.process().pid());
  for (int i = 0; i < count; ++i) {
    idle.push_back(open());
    idle.back()->send(requestFor(i));
    const auto r = idle.back()->read();
    EXPECT_EQ(r.status, 200) << i;
    EXPECT_TRUE(r.complete) << i;
  }
  return (residentKiB(gateway.process().pid()) - before) / count;
}

// Streams of seconds: timeouts far from them.
ConfigKnobs streamKnobs() {
  ConfigKnobs k;
  k.firstToken = "10s";
  k.idle = "10s";
  k.total = "30s";
  return k;
}

// Connections that stay idle a minute, with sampling off.
ConfigKnobs idleKnobs() {
  ConfigKnobs k;
  k.keepaliveIdle = "60s";
  k.topLevel = kNoSampling;
  return k;
}

// A stream of `tokens` tokens `interTokenMs` apart; with `firstTokenMs`, the
// mock sends nothing before its first token (a model queueing or prefilling).
std::string streamRequest(int tokens, int interTokenMs, int firstTokenMs = 0) {
  std::vector<std::string> headers{"x-mock-tokens: " + std::to_string(tokens),
                                   "x-mock-inter-token-ms: " + std::to_string(interTokenMs)};
  if (firstTokenMs > 0) {
    headers.push_back("x-mock-first-token-ms: " + std::to_string(firstTokenMs));
    headers.push_back("x-mock-headers-first: 0");
  }
  return jsonPost("/v1/chat/completions", chatBody("mock-model", true), headers);
}

// Each of `requests`, in turn, on one connection: the first requests' one-off
// costs (pools, caches, the sample store) are paid before a measurement.
void warmUp(Connection& connection, const std::vector<std::string>& requests, int count = 20) {
  for (int i = 0; i < count; ++i) {
    connection.send(requests[static_cast<std::size_t>(i) % requests.size()]);
    ASSERT_EQ(connection.read().status, 200);
  }
}

// Idle connections are still served: the next request on some of them is answered.
void expectStillServed(std::vector<std::unique_ptr<Connection>>& idle, const std::string& request) {
  for (std::size_t i = 0; i < idle.size(); i += 97) {
    idle[i]->send(request);
    EXPECT_EQ(idle[i]->read().status, 200) << i;
  }
}

// `count` connections made by `open()`, then a stream of `tokens` tokens
// 150 ms apart on each, the first `firstTokenMs` after the request (0: at
// once, after the mock's head): the gateway's resident memory grown per
// stream (its connection included) at `measureAt` after the streams start,
// while all are open, and once `sent()` says every request reached the mock
// (when given: waited for up to the first token); then every stream must complete.
template <class Open>
double kibPerOpenStream(Gateway& gateway, int count, Open open, int tokens, std::chrono::milliseconds measureAt,
                        int firstTokenMs = 0, const std::function<bool()>& sent = {}) {
  const double before = residentKiB(gateway.process().pid());
  std::vector<std::unique_ptr<Connection>> streams;
  for (int i = 0; i < count; ++i) streams.push_back(open());
  const auto started = std::chrono::steady_clock::now();
  for (auto& s : streams) s->send(streamRequest(tokens, 150, firstTokenMs));
  std::this_thread::sleep_until(started + measureAt);
  if (sent) {
    const auto giveUp = started + std::chrono::milliseconds(firstTokenMs) - std::chrono::milliseconds(500);
    while (!sent() && std::chrono::steady_clock::now() < giveUp) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(sent()) << "not every request reached the mock: the gateway still held some";
  }
  const double during = residentKiB(gateway.process().pid());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(firstTokenMs + tokens * 150))
      << "the streams were not all open at the measurement: the test proves nothing";
  int complete = 0;
  for (auto& s : streams) {
    auto r = s->read(std::chrono::seconds(20));
    if (r.status == 200 && r.complete && r.body.find("[DONE]") != std::string::npos) ++complete;
  }
  EXPECT_EQ(complete, count);
  return (during - before) / count;
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
  const std::string requests[3] = {chat, promptOf(40 * 1024), promptOf(12 * 1024)};
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), requests[i % 3]).status, 200);
  std::vector<std::unique_ptr<Connection>> idle;
  const double perConnection =
      kibPerIdleConnection(gateway, kConnections, plainConnections(gateway), [&](int i) { return requests[i % 3]; }, idle);
  // Measured 7.1-8.4 KiB: the session (parsers, record, filter states), its
  // socket and reactor state. A 16 KiB read buffer kept while waiting
  // measured 11.4 (only the pages a request was read into count as resident);
  // a 40 KB body's memory kept for the connection's next request, 27; a 12 KB
  // one's (up to 16 KiB were kept), 11.6-12.6.
  EXPECT_LT(perConnection, 9.5) << "KiB per idle keep-alive connection";
  RecordProperty("kib_per_idle_connection", std::to_string(perConnection));

  expectStillServed(idle, chat);
}

// A long JSON answer (its usage is read at its end, so it is kept while it
// comes) must not stay with the connection once it is relayed.
TEST(ConnectionMemory, IdleConnectionsKeepNothingOfALongAnswer) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k = idleKnobs();
  Gateway gateway(standardConfig(mock.port(), k));
  const auto chat = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  const auto longAnswer = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-tokens: 8000"});
  const auto first = request(gateway.port(), longAnswer);
  ASSERT_EQ(first.status, 200);
  ASSERT_GT(first.body.size(), 40u * 1024) << "the answer is not long: the test proves nothing";
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), i % 2 ? chat : longAnswer).status, 200);
  constexpr int kLong = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  const double perConnection = kibPerIdleConnection(gateway, kLong, plainConnections(gateway), [&](int) { return longAnswer; }, idle);
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
  ConfigKnobs k = idleKnobs();
  Gateway gateway(httpsConfig(mock.port(), "", k));
  const auto longChat = promptOf(40 * 1024);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), longChat).status, 200);
  constexpr int kLong = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  const double perConnection = kibPerIdleConnection(gateway, kLong, plainConnections(gateway), [&](int) { return longChat; }, idle);
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
  ConfigKnobs k = idleKnobs();
  k.serverExtra = httpsListener();
  Gateway gateway(standardConfig(mock.port(), k));
  const auto port = httpsPort(gateway);
  const TlsClient tls{testCertDir() + "/ca.crt"};
  const auto chat = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  const auto longAnswer = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-tokens: 8000"});
  {
    Connection warm(port, tls);
    warmUp(warm, {chat, longAnswer});
  }
  constexpr int kHttps = kConnections / 2;
  std::vector<std::unique_ptr<Connection>> idle;
  const double perConnection = kibPerIdleConnection(
      gateway, kHttps, [&] { return std::make_unique<Connection>(port, tls); },
      [&](int i) { return i % 2 ? chat : longAnswer; }, idle);
  // Measured 20 KiB: the session and the SSL object. 100 with Asio's
  // stream, 36 with ours while a waiting read held its 16 KiB buffer.
  EXPECT_LT(perConnection, 28) << "KiB per idle HTTPS keep-alive connection";
  RecordProperty("kib_per_idle_https_connection", std::to_string(perConnection));
  expectStillServed(idle, chat);
}

// HTTPS streams: between tokens the client's connection is watched for a
// close without a read buffer, as over plain TCP.
TEST(ConnectionMemory, OpenHttpsStreamsHoldNoReadBufferBetweenTokens) {
  raiseDescriptorLimit();
  MockServer mock;
  ConfigKnobs k = streamKnobs();
  k.serverExtra = httpsListener();
  Gateway gateway(standardConfig(mock.port(), k));
  const auto port = httpsPort(gateway);
  const TlsClient tls{testCertDir() + "/ca.crt"};
  {
    Connection warm(port, tls);
    warmUp(warm, {streamRequest(3, 0)});
  }
  // All of a stream's cost, its TLS connection's included (the handshakes
  // are done before the streams start): 300 streams of 12 tokens.
  const double perStream = kibPerOpenStream(
      gateway, 300, [&] { return std::make_unique<Connection>(port, tls); }, 12, std::chrono::milliseconds(900));
  // Measured 32 KiB (the TLS connection's 20 and the stream's own); 44 when
  // the read that watches the client held its 16 KiB buffer.
  EXPECT_LT(perStream, 38.0) << "KiB per open HTTPS stream, its connection included";
  RecordProperty("kib_per_open_https_stream", std::to_string(perStream));
}

TEST(ConnectionMemory, OpenStreamsHoldMemoryForBytesInFlightOnly) {
  raiseDescriptorLimit();
  MockServer mock;
  Gateway gateway(standardConfig(mock.port(), streamKnobs()));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), streamRequest(3, 0)).status, 200);
  // 1,000 streams of 16 tokens 150 ms apart, measured mid-stream: every
  // stream has its head and some tokens, none has ended.
  const double perStream = kibPerOpenStream(
      gateway, kConnections, plainConnections(gateway), 16,
      std::chrono::milliseconds(1200));
  // Measured 2.8-3.1 KiB: the session, exchange, both sockets, the filters'
  // states (3.1-3.3 while the upstream's wait for the next event was a
  // pending read; 3.6-4.1 while the client's watch was one too and the
  // session's parts were not packed). 4.3-4.6 while each stream kept
  // Beast's response parser and, between events, a read buffer holding the
  // last chunk's CRLF; 4.4-5.0 (5.8 once, just after a build) before the
  // metric tables took pages only when written; 5.4-6.8 while each stream
  // kept its request's parser and facts, the
  // request id twice and the TLS and write-wait members; 8.7-9.0 while it kept
  // its header lines, the header clock's pending wait and two std::function
  // per deadline. A 32 KiB relay buffer held between tokens (reused from the
  // thread's cache, so resident) would add 32.
  EXPECT_LT(perStream, 6.0) << "KiB per open stream";
  RecordProperty("kib_per_open_stream", std::to_string(perStream));
}

// Streams whose model has not answered yet (queued or prefilling: no head, no
// token): each request was sent, and a retry needs only the text kept of its
// head and its body, so the request's parser, its header lines and the facts
// read from its body are given back, and the answer's parser is made only
// when its first bytes come.
TEST(ConnectionMemory, StreamsWaitingForTheirModelHoldNoParserNorFacts) {
  raiseDescriptorLimit();
  MockServer mock;
  // Sampling off: a warm-up sample scored late (the first scoring faults in
  // about 1 MB of language tables) would land in the measurement.
  auto knobs = streamKnobs();
  knobs.topLevel = kNoSampling;
  Gateway gateway(standardConfig(mock.port(), knobs));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(request(gateway.port(), streamRequest(3, 0, 1)).status, 200);
  // 1,000 streams whose first answer byte comes 3 s after their request,
  // measured at 1.5 s.
  // Measured once every request reached the mock (under a loaded CI host,
  // 1.5 s was not always enough for the gateway to send them all).
  const auto warm = mock.stats().at("streams").to_number<std::uint64_t>();
  const auto allSent = [&] { return mock.stats().at("streams").to_number<std::uint64_t>() >= warm + kConnections; };
  const double perStream = kibPerOpenStream(gateway, kConnections, plainConnections(gateway), 2,
                                            std::chrono::milliseconds(1500), 3000, allSent);
  // Measured 3.9-4.0 KiB; 4.5-4.6 while each kept its facts and an answer
  // parser made when the request was sent; 5.7 while each kept its request's
  // parser and header lines until its answer started.
  EXPECT_LT(perStream, 4.5) << "KiB per stream waiting for its model";
  RecordProperty("kib_per_waiting_stream", std::to_string(perStream));
}

namespace {

struct Burst {
  double before = 0, during = 0, after = 0;  // resident KiB: idle, with every stream open, once they ended
  double peak = 0;                           // the process's peak resident KiB
  double trims = 0, returned = 0;            // infergate_memory_trims_total, _returned_bytes_total
};

// 1,000 streams of 4 tokens 100 ms apart, opened at once, measured while all
// are open, with the trimmer off; then every client leaves, and the gateway's
// resident memory is read once its sessions are gone (2 s at most).
Burst burstOfStreams() {
  MockServer mock;
  auto knobs = streamKnobs();
  knobs.topLevel = kNoSampling;  // the first samples' scorers would add their own megabytes
  knobs.serverExtra = "  memory_trim: {enabled: false}\n";
  Gateway gateway(standardConfig(mock.port(), knobs));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(request(gateway.port(), streamRequest(3, 0)).status, 200);
  const auto pid = gateway.process().pid();
  Burst b;
  b.before = residentKiB(pid);
  {
    std::vector<std::unique_ptr<Connection>> streams;
    for (int i = 0; i < kConnections; ++i) streams.push_back(std::make_unique<Connection>(gateway.port()));
    for (auto& s : streams) s->send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                                             {"x-mock-tokens: 4", "x-mock-inter-token-ms: 100"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    b.during = residentKiB(pid);
    int complete = 0;
    for (auto& s : streams) {
      auto r = s->read(std::chrono::seconds(20));
      if (r.status == 200 && r.complete && r.body.find("[DONE]") != std::string::npos) ++complete;
    }
    EXPECT_EQ(complete, kConnections);
  }  // every client leaves
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  double open = -1;
  while (open != 0 && std::chrono::steady_clock::now() < giveUp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto metrics = scrape(gateway.adminPort());
    open = seriesValue(metrics, "infergate_downstream_connections");
    b.trims = seriesValue(metrics, "infergate_memory_trims_total");
  }
  EXPECT_EQ(open, 0) << "every client left: their sessions are gone";
  b.after = residentKiB(pid);
  // VmHWM is brought up to date when memory is unmapped, not on every fault:
  // the reading with every stream open may be higher.
  b.peak = std::max(statusKiB(pid, "VmHWM"), b.during);
  return b;
}

}  // namespace

// Memory that follows the bytes in flight also comes back down once a burst
// of streams is over: the sessions' slabs go back to the kernel as their last
// session ends (slot_slab.hpp), with or without the trimmer.
TEST(ConnectionMemory, TheSessionsOfABurstOfStreamsGiveTheirMemoryBack) {
  raiseDescriptorLimit();
  const auto b = burstOfStreams();
  const double grown = b.peak - b.before;
  ASSERT_GT(grown, 1500) << "1,000 open streams grew the gateway by " << grown << " KiB only: the test proves nothing";
  EXPECT_EQ(b.trims, 0);
  // Measured (1,000 streams, one worker, 2.9-3.2 MiB grown): 1.1-1.3 MiB
  // back, the sessions' share; nothing came back while their blocks lay in
  // the allocator's arena between Asio's descriptor states (kept by Asio for
  // reuse, as are the rest: filter states, upstream connections, read ops).
  EXPECT_LT(b.after, b.peak - 0.25 * grown) << "KiB: before " << b.before << ", with the streams " << b.during
                                            << ", peak " << b.peak << ", after " << b.after;
  RecordProperty("kib_kept_after_burst", std::to_string(b.after - b.before));
  RecordProperty("kib_grown_by_burst", std::to_string(grown));
}

namespace {

// 200 requests with a 256 KiB prompt each, answered 1.5 s after the mock has
// each, so that every body is held at once (about 50 MiB); then every client
// leaves. Resident KiB as for burstOfStreams.
Burst burstOfPrompts(const std::string& memoryTrim, bool expectTrim) {
  MockServer mock;
  auto knobs = streamKnobs();
  knobs.topLevel = kNoSampling;
  knobs.serverExtra = memoryTrim;
  Gateway gateway(standardConfig(mock.port(), knobs));
  const auto pid = gateway.process().pid();
  Burst b;
  b.before = residentKiB(pid);
  const auto prompt = jsonPost("/v1/chat/completions",
                               R"({"model":"mock-model","messages":[{"role":"user","content":")" +
                                   std::string(256 * 1024, 'p') + R"("}]})",
                               {"x-mock-latency-ms: 1500"});
  {
    std::vector<std::unique_ptr<Connection>> clients;
    for (int i = 0; i < 200; ++i) clients.push_back(std::make_unique<Connection>(gateway.port()));
    for (auto& c : clients) c->send(prompt);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    b.during = residentKiB(pid);
    int answered = 0;
    for (auto& c : clients) answered += c->read(std::chrono::seconds(20)).status == 200;
    EXPECT_EQ(answered, 200);
  }
  const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(expectTrim ? 3 : 2);
  while (std::chrono::steady_clock::now() < giveUp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto metrics = scrape(gateway.adminPort());
    b.trims = seriesValue(metrics, "infergate_memory_trims_total");
    b.returned = seriesValue(metrics, "infergate_memory_returned_bytes_total");
    if (expectTrim && b.trims >= 1) break;
  }
  b.after = residentKiB(pid);
  b.peak = std::max(statusKiB(pid, "VmHWM"), b.during);
  return b;
}

}  // namespace

// The allocator keeps what it frees for reuse (malloc_tuning.cpp): after a
// burst of large prompts, their bodies' memory stays with it until the
// trimmer sees the burst is over and gives it back (server.memory_trim).
TEST(ConnectionMemory, ABurstOfLargePromptsIsGivenBackOnceOver) {
  const auto b = burstOfPrompts("  memory_trim: {interval: 200ms, min_free: 8MiB}\n", true);
  const double grown = b.peak - b.before;
  ASSERT_GT(grown, 30 * 1024) << "200 prompts of 256 KiB grew the gateway by " << grown << " KiB only";
  // Measured: 52-53 MiB grown, 1.9-2.2 MiB kept; without the trimmer, all of it.
  EXPECT_GE(b.trims, 1);
  EXPECT_GT(b.returned, 0.5 * grown * 1024) << "bytes returned";
  EXPECT_LT(b.after - b.before, 0.3 * grown) << "KiB: before " << b.before << ", with the prompts " << b.during
                                              << ", peak " << b.peak << ", after " << b.after;
  RecordProperty("kib_kept_after_prompts", std::to_string(b.after - b.before));
  RecordProperty("kib_grown_by_prompts", std::to_string(grown));
}

// Without the trimmer the same burst's memory stays: what the test above
// measures against.
TEST(ConnectionMemory, WithoutTrimmingABurstOfPromptsStays) {
  const auto b = burstOfPrompts("  memory_trim: {enabled: false}\n", false);
  const double grown = b.peak - b.before;
  ASSERT_GT(grown, 30 * 1024);
  EXPECT_EQ(b.trims, 0);
  EXPECT_GT(b.after - b.before, 0.7 * grown) << "KiB: before " << b.before << ", with the prompts " << b.during
                                              << ", peak " << b.peak << ", after " << b.after;
  RecordProperty("kib_kept_after_prompts_untrimmed", std::to_string(b.after - b.before));
  RecordProperty("kib_grown_by_prompts", std::to_string(grown));
}
