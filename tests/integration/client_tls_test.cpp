// The HTTPS listener (server.tls) end to end: the official openai SDK over
// HTTPS (trusting the test CA through NODE_EXTRA_CA_CERTS), streaming
// included; a client that stalls its handshake is closed when the handshake
// timeout passes and counted; a plain request to the HTTPS port is closed and
// counted; the plain listener serves on beside it.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

#include <boost/json/parse.hpp>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"

using namespace testsupport;

namespace {

const std::string& certDir() { return testCertDir(); }

// server.tls on a free port with the test CA's server certificate; `extra`: more lines under it.
std::string tlsListener(const std::string& extra = "") {
  return "  tls:\n    listen: 127.0.0.1:0\n    cert_file: " + certDir() + "/server.crt\n    key_file: " + certDir() +
         "/server.key\n" + extra;
}

std::string httpsServerConfig(std::uint16_t mockPort) {
  ConfigKnobs k;
  k.firstToken = "500ms";  // as the plain SDK test: its timeout check needs a quick first-token timeout
  k.serverExtra = tlsListener("    handshake_timeout: 500ms\n");
  k.routes =
      "routes:\n"
      "  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\"]\n    backend: mock\n"
      "  - name: models\n    path_prefix: /v1/models\n    backend: mock\n";
  return standardConfig(mockPort, k);
}

std::uint16_t httpsPort(Gateway& gw) {
  auto line = gw.process().waitForLine("https listening on");
  if (!line) throw std::runtime_error("no https listener: " + gw.process().stderrText());
  std::smatch m;
  std::regex re(R"(https listening on [0-9.]+:(\d+))");
  if (!std::regex_search(*line, m, re)) throw std::runtime_error("unexpected line: " + *line);
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// A raw TCP connection to `port`: true when the peer closes it within `timeout`.
bool closedWithin(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<long>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

int connectTo(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
  return fd;
}

}  // namespace

TEST(ClientTls, TheOpenAiSdkWorksOverHttps) {
  MockServer mock;
  Gateway gw(httpsServerConfig(mock.port()));
  const auto port = httpsPort(gw);
  Process node({NODE_BIN, std::string(NODE_TESTS_DIR) + "/openai_sdk_check.mjs",
                "https://localhost:" + std::to_string(port) + "/v1"},
               {"NODE_EXTRA_CA_CERTS=" + certDir() + "/ca.crt"});
  auto done = node.waitForLine("all checks passed", std::chrono::seconds(30));
  auto status = node.wait(std::chrono::seconds(10));
  EXPECT_TRUE(done) << node.transcript() << node.stderrText();
  EXPECT_EQ(status, 0) << node.transcript() << node.stderrText();
  // The plain listener serves beside it.
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
}

TEST(ClientTls, StalledHandshakesAndPlainRequestsAreClosedAndCounted) {
  MockServer mock;
  Gateway gw(httpsServerConfig(mock.port()));
  const auto port = httpsPort(gw);
  // Connects and says nothing: closed once the 500 ms handshake timeout passes.
  const int stalled = connectTo(port);
  EXPECT_TRUE(closedWithin(stalled, std::chrono::seconds(3)));
  ::close(stalled);
  // Plain HTTP to the HTTPS port: not a TLS hello, closed at once.
  const int plain = connectTo(port);
  const std::string get = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(plain, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  EXPECT_TRUE(closedWithin(plain, std::chrono::seconds(3)));
  ::close(plain);
  const auto text = scrape(gw.adminPort());
  EXPECT_EQ(seriesValue(text, "infergate_tls_handshake_failures_total{reason=\"timeout\"}"), 1);
  EXPECT_EQ(seriesValue(text, "infergate_tls_handshake_failures_total{reason=\"error\"}"), 1);
  EXPECT_TRUE(gw.process().running());
}

namespace {
// The subject of the certificate the HTTPS listener presents now, as the
// openssl command reads it ("CN = ...").
// What `openssl s_client` with `args` prints against the HTTPS port (stdout
// and stderr), piped through `then` when given.
std::string sClient(std::uint16_t port, const std::string& args, const std::string& then = "") {
  const auto out = unusedTempPath(".txt");
  const std::string command = "(openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -servername localhost " + args + " </dev/null 2>&1)" + then + " >" + out;
  [[maybe_unused]] const int status = std::system(command.c_str());  // a refused handshake exits 1: read what it said
  auto text = readFile(out);
  std::filesystem::remove(out);
  return text;
}

std::string presentedSubject(std::uint16_t port) {
  return sClient(port, "", " | openssl x509 -noout -subject 2>/dev/null");
}
}  // namespace

TEST(ClientTls, TheCertificateIsReadAgainOnSighupWithoutDroppingConnections) {
  MockServer mock;
  // The gateway's own copies of the files, to replace.
  const auto dir = std::filesystem::path(unusedTempPath(""));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(certDir() + "/server.crt", dir / "tls.crt");
  std::filesystem::copy_file(certDir() + "/server.key", dir / "tls.key");
  ConfigKnobs k;
  k.serverExtra = "  tls:\n    listen: 127.0.0.1:0\n    cert_file: " + (dir / "tls.crt").string() + "\n    key_file: " +
                  (dir / "tls.key").string() + "\n";
  Gateway gw(standardConfig(mock.port(), k));
  const auto port = httpsPort(gw);
  EXPECT_NE(presentedSubject(port).find("CN = server"), std::string::npos);
  // An HTTPS connection open across the reload.
  const int open = connectTo(port);

  std::filesystem::copy_file(certDir() + "/wronghost.crt", dir / "tls.crt", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(certDir() + "/wronghost.key", dir / "tls.key", std::filesystem::copy_options::overwrite_existing);
  gw.process().signal(SIGHUP);
  std::string subject;
  for (int i = 0; i < 100 && subject.find("CN = wronghost") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    subject = presentedSubject(port);
  }
  EXPECT_NE(subject.find("CN = wronghost"), std::string::npos) << subject << gw.process().stderrText();
  EXPECT_GE(seriesValue(scrape(gw.adminPort()), "infergate_tls_certificate_reloads_total{result=\"ok\"}"), 1);

  // A key that does not match: refused, the certificate in force stays.
  std::filesystem::copy_file(certDir() + "/server.key", dir / "tls.key", std::filesystem::copy_options::overwrite_existing);
  gw.process().signal(SIGHUP);
  for (int i = 0; i < 100 && seriesValue(scrape(gw.adminPort()), "infergate_tls_certificate_reloads_total{result=\"failed\"}") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GE(seriesValue(scrape(gw.adminPort()), "infergate_tls_certificate_reloads_total{result=\"failed\"}"), 1);
  EXPECT_NE(presentedSubject(port).find("CN = wronghost"), std::string::npos);
  // The connection opened before the reloads was not dropped by them.
  timeval tv{0, 200'000};
  ::setsockopt(open, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte;
  EXPECT_LT(::recv(open, &byte, 1, 0), 0) << "closed by a reload";
  ::close(open);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(gw.process().running());
}

TEST(ClientTls, FramingChecksLimitsAndTimeoutsHoldOverHttps) {
  MockServer mock;
  ConfigKnobs k;
  k.maxBody = "4KiB";
  k.headerRead = "500ms";
  k.serverExtra = tlsListener();
  Gateway gw(standardConfig(mock.port(), k));
  const auto port = httpsPort(gw);
  const TlsClient tls{certDir() + "/ca.crt"};
  const auto expectRefused = [&](const std::string& raw, unsigned status) {
    Connection c(port, tls);
    c.send(raw);
    const auto r = c.read(std::chrono::seconds(3));
    EXPECT_EQ(r.status, status) << raw;
    EXPECT_EQ(r.header("connection"), "close") << raw;
    EXPECT_TRUE(boost::json::parse(r.body).at("error").at("message").is_string()) << r.body;
    EXPECT_TRUE(c.waitClosed(std::chrono::seconds(3))) << raw;
  };
  // Length and chunking at once (a smuggling attempt).
  expectRefused("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                400);
  // A body over server.limits.max_body_bytes.
  expectRefused(jsonPost("/v1/chat/completions", chatBody("mock-model") + std::string(5000, ' ')), 413);
  // A head that never ends: the header timeout.
  expectRefused("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", 408);
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);

  // And a good request on a kept-alive HTTPS connection, twice.
  Connection c(port, tls);
  for (int i = 0; i < 2; ++i) {
    c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
    const auto r = c.read();
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);
  }
}

TEST(ClientTls, ATlsHelloToThePlainPortGetsA400AndTheGatewayServesOn) {
  MockServer mock;
  Gateway gw(httpsServerConfig(mock.port()));
  httpsPort(gw);
  // The plain listener reads a client's TLS hello as a malformed request.
  EXPECT_THROW(Connection(gw.port(), TlsClient{certDir() + "/ca.crt"}), std::runtime_error);
  Connection raw(gw.port());
  raw.send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11) + std::string(32, '\x5a'));
  const auto r = raw.read(std::chrono::seconds(3));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(raw.waitClosed(std::chrono::seconds(3)));
  EXPECT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
}

TEST(ClientTls, TheConnectionCapCoversTheHttpsPort) {
  MockServer mock;
  ConfigKnobs k;
  k.limitsExtra = "    max_connections: 2\n";
  k.serverExtra = tlsListener();
  Gateway gw(standardConfig(mock.port(), k));
  const auto port = httpsPort(gw);
  const TlsClient tls{certDir() + "/ca.crt"};
  {
    Connection a(port, tls), b(gw.port());
    // The plain client's connect returns once the kernel has it, maybe before
    // the gateway accepted it: an answer on it says its place is taken (a
    // loaded host accepted the third client first otherwise).
    b.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
    ASSERT_EQ(b.read().status, 200);
    // Both places taken (one HTTPS, one plain): a third HTTPS client is closed before its handshake.
    EXPECT_THROW(Connection(port, tls), std::runtime_error);
    EXPECT_EQ(seriesValue(scrape(gw.adminPort()), R"(infergate_downstream_refused_total{reason="max_connections"})"),
              1);
    a.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
    EXPECT_EQ(a.read().status, 200);
  }
  // Places freed: HTTPS is served again.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    try {
      Connection c(port, tls);
      c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
      served = c.read().status == 200;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(served) << gw.process().stderrText();
}

TEST(ClientTls, AlpnPicksHttp11AndTlsBelow12IsRefused) {
  MockServer mock;
  Gateway gw(httpsServerConfig(mock.port()));
  const auto port = httpsPort(gw);
  EXPECT_NE(sClient(port, "-alpn h2,http/1.1").find("ALPN protocol: http/1.1"), std::string::npos);
  // A client that speaks only h2 gets no ALPN answer (and would fall back), not h2.
  const auto h2 = sClient(port, "-alpn h2");
  EXPECT_NE(h2.find("No ALPN negotiated"), std::string::npos) << h2;
  EXPECT_EQ(h2.find("ALPN protocol: h2"), std::string::npos);
  // TLS 1.1 (allowed on the client's side here) is answered with a protocol_version alert.
  const auto old = sClient(port, "-tls1_1 -cipher DEFAULT:@SECLEVEL=0");
  EXPECT_NE(old.find("alert protocol version"), std::string::npos) << old;
  EXPECT_NE(sClient(port, "-tls1_2").find("New, TLSv1.2, Cipher is"), std::string::npos);
  EXPECT_NE(sClient(port, "-tls1_3").find("New, TLSv1.3, Cipher is"), std::string::npos);
  EXPECT_TRUE(gw.process().running());
}

// A stream's wait for its next event is a watch on the upstream socket, begun
// only while the reactor holds that socket drained (exchange.hpp,
// AsioExchangeTransport). Events the mock writes back to back come while the
// last one is being written to the client, and over TLS that write completes
// in the next round, after a wait that may already have reported the next
// event: a watch begun then would wait for an event that never comes, and
// the stream would end by the idle timeout (2 s) with an error event instead
// of its tokens. Plain and HTTPS clients, a stream alone and 16 at once.
TEST(ClientTls, EventsThatComeBackToBackAreAllRelayed) {
  MockServer mock;
  Gateway gw(httpsServerConfig(mock.port()));
  const auto port = httpsPort(gw);
  const TlsClient tls{certDir() + "/ca.crt"};
  const auto streamRequest = jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                                      {"x-mock-tokens: 50", "x-mock-inter-token-ms: 0"});
  for (const bool https : {true, false}) {
    for (const int count : {1, 16}) {
      std::vector<std::unique_ptr<Connection>> streams;
      for (int i = 0; i < count; ++i) {
        streams.push_back(https ? std::make_unique<Connection>(port, tls) : std::make_unique<Connection>(gw.port()));
        streams.back()->send(streamRequest);
      }
      for (auto& c : streams) {
        const auto r = c->read(std::chrono::seconds(10));
        ASSERT_EQ(r.status, 200) << https << " " << count;
        EXPECT_TRUE(r.complete);
        const auto error = r.body.find("event: error");
        EXPECT_EQ(error, std::string::npos) << https << " " << count << " " << r.body.substr(std::min(error, r.body.size()));
        EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
      }
    }
  }
}
