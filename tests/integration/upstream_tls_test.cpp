// https:// endpoints end to end: the mock in HTTPS mode with certificates made
// by the openssl command at test time (tests/support/make_test_certs.sh).
// A verified connection is pooled and reused, a new one resumes the session,
// streams and a client leaving mid-stream work as over plain TCP, and every
// certificate that must fail (unknown CA, wrong host name, expired) fails with
// upstream_tls_error and its reason in the log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/test_certs.hpp"

using namespace testsupport;

namespace {

// The certificates, made once per test process.
const std::string& certDir() { return testCertDir(); }

std::string chat(bool stream = false, const std::string& extra = "") {
  std::vector<std::string> headers;
  if (!extra.empty()) headers.push_back(extra);
  return jsonPost("/v1/chat/completions", chatBody("mock-model", stream), headers);
}

std::int64_t stat(MockServer& mock, const char* name) { return mock.stats().at(name).as_int64(); }

}  // namespace

TEST(UpstreamTls, AVerifiedConnectionIsPooledAndStreamsRelayEventByEvent) {
  MockServer mock(httpsMock("server"));
  Gateway gw(httpsConfig(mock.port()));
  for (int i = 0; i < 5; ++i) {
    const auto r = request(gw.port(), chat());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("chat.completion"), std::string::npos);
  }
  // A stream: its events arrive spread out, as the mock paces them.
  const auto s = request(gw.port(), chat(true, "x-mock-inter-token-ms: 30\r\nx-mock-tokens: 10"));
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.complete);
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
  ASSERT_GE(s.chunks.size(), 5u);
  EXPECT_GT(s.chunks.back().atMs - s.chunks.front().atMs, 150) << "the stream was buffered";
  // Six requests, one after another: one handshake, one connection.
  EXPECT_EQ(stat(mock, "requests"), 6);
  EXPECT_EQ(stat(mock, "tls_handshakes"), 1);
  EXPECT_EQ(stat(mock, "connections"), 1);
  // The new connection's TCP connect and its handshake, measured apart.
  const auto text = scrapeAfter(gw.adminPort(), 6);
  const std::string endpoint = "{backend=\"mock\",endpoint=\"localhost:" + std::to_string(mock.port()) + "\"}";
  EXPECT_EQ(seriesValue(text, "infergate_upstream_tls_handshake_duration_seconds_count" + endpoint), 1) << text;
  EXPECT_EQ(seriesValue(text, "infergate_upstream_connect_duration_seconds_count" + endpoint), 1);
}

TEST(UpstreamTls, ANewConnectionResumesTheSession) {
  MockServer mock(httpsMock("server"));
  Gateway gw(httpsConfig(mock.port()));
  ASSERT_EQ(request(gw.port(), chat()).status, 200);  // a session to keep
  // Two at once: one takes the pooled connection, the other makes a new one.
  auto slow = [&] { return request(gw.port(), chat(false, "x-mock-latency-ms: 300")).status; };
  auto a = std::async(std::launch::async, slow);
  auto b = std::async(std::launch::async, slow);
  EXPECT_EQ(a.get(), 200u);
  EXPECT_EQ(b.get(), 200u);
  EXPECT_EQ(stat(mock, "tls_handshakes"), 2);
  EXPECT_EQ(stat(mock, "tls_resumed"), 1) << "the second connection did not resume the session";
}

TEST(UpstreamTls, AClientLeavingMidStreamClosesTheTlsConnection) {
  MockServer mock(httpsMock("server"));
  Gateway gw(httpsConfig(mock.port()));
  Connection c(gw.port());
  c.send(chat(true, "x-mock-inter-token-ms: 100\r\nx-mock-tokens: 100"));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  c.close();
  // The mock sees its (relayed) connection close long before the stream's 10 s.
  for (int i = 0; i < 100 && stat(mock, "client_closes") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(stat(mock, "client_closes"), 1);
  EXPECT_EQ(request(gw.port(), chat()).status, 200) << "the gateway serves on";
}

TEST(UpstreamTls, CertificatesThatMustFailFailWithTheirReason) {
  struct Case {
    const char* cert;
    const char* reason;  // in the log line
  };
  for (const auto& c : {Case{"wronghost", "hostname mismatch"}, Case{"selfsigned", "self-signed certificate"},
                        Case{"expired", "certificate has expired"}}) {
    SCOPED_TRACE(c.cert);
    MockServer mock(httpsMock(c.cert));
    Gateway gw(httpsConfig(mock.port()));
    const auto r = request(gw.port(), chat());
    ASSERT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(boost::json::parse(r.body).at("error").at("code").as_string(), "upstream_tls_error");
    EXPECT_EQ(stat(mock, "requests"), 0) << "nothing was sent over an unverified connection";
    const auto text = scrapeAfter(gw.adminPort(), 1);
    EXPECT_GE(seriesValue(text, "infergate_failures_total{route=\"chat\",backend=\"mock\",cause=\"upstream_tls_error\"}"),
              1);
    bool logged = false;
    for (int i = 0; i < 50 && !logged; ++i) {
      logged = gw.process().stderrText().find(c.reason) != std::string::npos;
      if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(logged) << gw.process().stderrText();
  }
}

// The endpoint's circuit state as the admin listener reports it.
static std::string breakerState(Gateway& gw, std::uint16_t port) {
  const auto json = boost::json::parse(request(gw.adminPort(), simpleGet("/admin/backends")).body);
  for (const auto& b : json.at("backends").as_array())
    for (const auto& e : b.at("endpoints").as_array())
      if (e.at("endpoint").as_string() == "localhost:" + std::to_string(port)) return std::string(e.at("state").as_string());
  return "";
}

TEST(UpstreamTls, TlsFailuresCountAgainstTheEndpoint) {
  MockServer mock(httpsMock("expired"));
  ConfigKnobs k;
  k.backendExtra = "    circuit_breaker: {consecutive_failures: 3}\n    retry: {max_attempts: 1}\n";
  Gateway gw(httpsConfig(mock.port(), "", k));
  EXPECT_EQ(breakerState(gw, mock.port()), "closed");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(request(gw.port(), chat()).status, 502);
  EXPECT_EQ(breakerState(gw, mock.port()), "open");
  // Open: refused at once, without another handshake.
  const auto handshakes = stat(mock, "tls_failed");
  EXPECT_EQ(request(gw.port(), chat()).status, 503);
  EXPECT_EQ(stat(mock, "tls_failed"), handshakes);
}

TEST(UpstreamTls, AClientCertificateIsPresentedWhenConfigured) {
  auto args = httpsMock("server");
  args.insert(args.end(), {"--tls-client-ca", certDir() + "/ca.crt"});
  MockServer mock(args);
  Gateway without(httpsConfig(mock.port()));
  const auto refused = request(without.port(), chat());
  EXPECT_EQ(refused.status, 502);
  EXPECT_EQ(boost::json::parse(refused.body).at("error").at("code").as_string(), "upstream_tls_error");
  Gateway with(httpsConfig(mock.port(), "      ca_file: " + certDir() + "/ca.crt\n      cert_file: " + certDir() +
                                            "/client.crt\n      key_file: " + certDir() + "/client.key\n"));
  EXPECT_EQ(request(with.port(), chat()).status, 200);
  EXPECT_EQ(stat(mock, "requests"), 1);
}

TEST(UpstreamTls, InsecureSkipVerifyIsWarnedAndTrustsAnyCertificate) {
  MockServer mock(httpsMock("selfsigned"));
  const auto yaml = httpsConfig(mock.port(), "      insecure_skip_verify: true\n");
  const auto path = writeTempFile(yaml);
  Process check({gatewayBinary(), "--check", "--config", path});
  ASSERT_EQ(check.wait(std::chrono::seconds(10)), 0);
  EXPECT_NE(check.stderrText().find("insecure_skip_verify is set"), std::string::npos) << check.stderrText();
  Gateway gw(yaml);
  EXPECT_EQ(request(gw.port(), chat()).status, 200);
  EXPECT_NE(gw.process().stderrText().find("insecure_skip_verify is set"), std::string::npos);
}

TEST(UpstreamTls, TheCheckReadsTheTlsFiles) {
  const auto missing = writeTempFile(httpsConfig(1, "      ca_file: /nonexistent/ca.pem\n"));
  Process a({gatewayBinary(), "--check", "--config", missing});
  EXPECT_EQ(a.wait(std::chrono::seconds(10)), 1);
  EXPECT_NE(a.stderrText().find("backend 'mock': tls.ca_file '/nonexistent/ca.pem'"), std::string::npos)
      << a.stderrText();
  // A certificate given as the client key: refused, naming the file.
  const auto wrongKey = writeTempFile(httpsConfig(1, "      cert_file: " + certDir() + "/client.crt\n      key_file: " +
                                                         certDir() + "/client.crt\n"));
  Process b({gatewayBinary(), "--check", "--config", wrongKey});
  EXPECT_EQ(b.wait(std::chrono::seconds(10)), 1);
  EXPECT_NE(b.stderrText().find("tls.key_file"), std::string::npos) << b.stderrText();
}

TEST(UpstreamTls, TlsToAPlainPortAndPlainToATlsPortFailCleanly) {
  MockServer plainMock;
  Gateway toPlain(httpsConfig(plainMock.port()));
  const auto a = request(toPlain.port(), chat());
  EXPECT_EQ(a.status, 502);
  EXPECT_EQ(boost::json::parse(a.body).at("error").at("code").as_string(), "upstream_tls_error");

  MockServer tlsMock(httpsMock("server"));
  Gateway toTls(standardConfig(tlsMock.port()));  // http:// to the HTTPS port
  const auto b = request(toTls.port(), chat());
  // The TLS front reads a request as a bad hello and closes: the connection was reset.
  EXPECT_EQ(b.status, 502u) << b.body;
  EXPECT_EQ(boost::json::parse(b.body).at("error").at("code").as_string(), "upstream_reset") << b.body;
  EXPECT_TRUE(toPlain.process().running());
  EXPECT_TRUE(toTls.process().running());
}

// Polls the gateway's metrics until `series` reaches `value` (up to 5 s).
static double waitForSeries(std::uint16_t adminPort, const std::string& series, double value) {
  double seen = -1;
  for (int i = 0; i < 250 && seen < value; ++i) {
    seen = seriesValue(scrape(adminPort), series);
    if (seen < value) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return seen;
}

TEST(UpstreamTls, HealthChecksRunOverTlsAndFailOnABadCertificate) {
  ConfigKnobs k;
  k.backendExtra = "    health_check: {path: /health, interval: 100ms, timeout: 500ms}\n";
  MockServer good(httpsMock("server"));
  Gateway gw(httpsConfig(good.port(), "", k));
  const std::string series = "infergate_health_checks_total{backend=\"mock\",endpoint=\"localhost:" +
                             std::to_string(good.port()) + "\",result=\"";
  EXPECT_GE(waitForSeries(gw.adminPort(), series + "success\"}", 3), 3);
  EXPECT_EQ(seriesValue(scrape(gw.adminPort()), series + "failure\"}"), 0);
  EXPECT_EQ(stat(good, "tls_handshakes"), 1) << "the checks reuse their TLS connection";

  MockServer wrong(httpsMock("wronghost"));
  Gateway bad(httpsConfig(wrong.port(), "", k));
  const std::string badSeries = "infergate_health_checks_total{backend=\"mock\",endpoint=\"localhost:" +
                                std::to_string(wrong.port()) + "\",result=\"failure\"}";
  EXPECT_GE(waitForSeries(bad.adminPort(), badSeries, 2), 2);
  EXPECT_EQ(stat(wrong, "requests"), 0);
}

TEST(UpstreamTls, TheJudgeReachesAnHttpsBackend) {
  MockServer mock;
  auto judgeArgs = httpsMock("server");
  judgeArgs.insert(judgeArgs.end(), {"--output", "judge4"});
  MockServer judge(judgeArgs);
  ConfigKnobs k;
  k.topLevel = "metrics:\n  model_labels: [mock-model]\nsampling:\n  rate: 1\n  judge:\n    backend: judge\n"
               "    model: judge-model\n    fraction: 1\n    timeout: 2s\n    max_concurrency: 8\n";
  k.backendExtra = "  - name: judge\n    endpoints:\n      - url: https://localhost:" + std::to_string(judge.port()) +
                   "\n    tls:\n      ca_file: " + certDir() + "/ca.crt\n";
  Gateway gw(standardConfig(mock.port(), k));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(request(gw.port(), chat()).status, 200);
  EXPECT_EQ(waitForSeries(gw.adminPort(), "infergate_judge_requests_total{result=\"ok\"}", 3), 3)
      << scrape(gw.adminPort()) << gw.process().stderrText();
  EXPECT_GE(stat(judge, "tls_handshakes"), 1);
}

// Requests are joined into one TLS write up to 64 KiB and written part by
// part (head, body) beyond: either way the model server gets the body whole.
TEST(UpstreamTls, PromptsSmallAndLargeReachTheServerWhole) {
  auto args = httpsMock("server");
  args.push_back("--record");
  MockServer mock(args);
  Gateway gw(httpsConfig(mock.port()));
  for (const std::size_t bytes : {1000u, 40'000u, 200'000u}) {
    std::string content(bytes, 'x');
    for (std::size_t i = 0; i < bytes; i += 97) content[i] = static_cast<char>('a' + i % 26);
    const std::string body = R"({"model":"mock-model","stream":true,"messages":[{"role":"user","content":")" + content + R"("}]})";
    const auto r = request(gw.port(), jsonPost("/v1/chat/completions", body));
    ASSERT_EQ(r.status, 200) << bytes;
    const std::string seen(mock.stats().at("last_request_body").as_string());
    EXPECT_TRUE(seen == body) << bytes << ": the prompt did not arrive whole (" << seen.size() << " bytes)";
  }
}
