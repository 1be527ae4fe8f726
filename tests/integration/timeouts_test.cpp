// Every timeout gives the right answer: 504 JSON before any byte was sent, an
// SSE error event after streaming started; client-side timeouts give 408.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

ConfigKnobs fastTimeouts() {
  ConfigKnobs k;
  k.connect = "300ms";
  k.firstToken = "400ms";
  k.idle = "300ms";
  k.total = "1500ms";
  k.headerRead = "300ms";
  k.bodyRead = "300ms";
  k.keepaliveIdle = "300ms";
  k.backendExtra = "    retry: {max_attempts: 1}\n";  // one attempt: these tests are about each timeout
  return k;
}

std::string errorCode(const std::string& body) {
  return std::string(boost::json::parse(body).at("error").at("code").as_string());
}

class TimeoutTest : public ::testing::Test {
 protected:
  MockServer mock;
  Gateway gateway{standardConfig(mock.port(), fastTimeouts())};
};

}  // namespace

TEST_F(TimeoutTest, HangingBackendGives504FirstTokenTimeoutAndIsClosed) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-hang: 1"}));
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(errorCode(r.body), "upstream_first_token_timeout");
  // The gateway closed the upstream connection, which the mock reports.
  for (int i = 0; i < 100 && mock.stats().at("client_closes").to_number<std::uint64_t>() == 0; ++i) usleep(10'000);
  EXPECT_EQ(mock.stats().at("client_closes").to_number<std::uint64_t>(), 1u);
}

TEST_F(TimeoutTest, StreamWhoseFirstTokenIsLateGives504EvenAfterUpstreamHeaders) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                                            {"x-mock-first-token-ms: 1000", "x-mock-headers-first: 1"}));
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(errorCode(r.body), "upstream_first_token_timeout");
}

TEST_F(TimeoutTest, SlowNonStreamingResponseGives504) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-latency-ms: 1000"}));
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.header("content-type"), "application/json");
}

TEST_F(TimeoutTest, IdleGapAfterFirstEventEndsStreamWithErrorEvent) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                  {"x-mock-tokens: 3", "x-mock-inter-token-ms: 700"}));
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("event: error\ndata: "), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("upstream_idle_timeout"), std::string::npos) << r.body;
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(c.read().status, 200);  // the client connection survives
}

TEST_F(TimeoutTest, TotalDeadlineEndsLongStreamWithErrorEvent) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model", true),
                                            {"x-mock-tokens: 50", "x-mock-inter-token-ms: 100"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("upstream_total_timeout"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(TimeoutTest, SlowRequestHeaderGives408AndClose) {
  Connection c(gateway.port());
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
  auto r = c.read(std::chrono::seconds(3));
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.waitClosed(std::chrono::seconds(3)));
}

TEST_F(TimeoutTest, SlowRequestBodyGives408) {
  Connection c(gateway.port());
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\":");
  auto r = c.read(std::chrono::seconds(3));
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);
}

TEST_F(TimeoutTest, IdleKeepAliveConnectionIsClosed) {
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(c.read().status, 200);
  EXPECT_TRUE(c.waitClosed(std::chrono::seconds(3)));
}

TEST(UpstreamConnectTimeout, UnansweredConnectGives504) {
  // A listener whose accept queue is full: further SYNs are dropped, so a
  // connect attempt hangs until the gateway's connect timeout.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(f, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(f);
  }
  usleep(50'000);
  Gateway gateway(standardConfig(ntohs(addr.sin_port), fastTimeouts()));
  auto started = std::chrono::steady_clock::now();
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(errorCode(r.body), "upstream_connect_timeout");
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  for (int f : fillers) ::close(f);
  ::close(listener);
}
