// Proxying through a real infergate to a real mock model server on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <boost/json/parse.hpp>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

class ProxyTest : public ::testing::Test {
 protected:
  MockServer mock{{"--deterministic"}};
  Gateway gateway{standardConfig(mock.port(), knobs())};

  static ConfigKnobs knobs() {
    ConfigKnobs k;
    k.backendHeaders = "      Authorization: \"Bearer ${TEST_UPSTREAM_KEY}\"\n";
    k.routes =
        "routes:\n"
        "  - name: renamed\n    path_prefix: /v1/\n    models: [\"small\"]\n    backend: mock\n"
        "    rename_model: mock-small\n"
        "  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\", \"exact-model\"]\n    backend: mock\n"
        "  - name: models\n    path_prefix: /v1/models\n    backend: mock\n";
    return k;
  }

  std::string lastHead() { return std::string(mock.stats().at("last_request_head").as_string()); }
  std::string lastBody() { return std::string(mock.stats().at("last_request_body").as_string()); }
};

}  // namespace

// The gateway's environment carries the upstream key; the fixture sets it per process.
class ProxyTestEnv : public ::testing::Environment {
 public:
  void SetUp() override { setenv("TEST_UPSTREAM_KEY", "sk-upstream-secret", 1); }
};
static auto* const kEnv = ::testing::AddGlobalTestEnvironment(new ProxyTestEnv);

TEST_F(ProxyTest, NonStreamingResponseIsByteIdenticalToDirect) {
  const auto req = jsonPost("/v1/chat/completions", chatBody("mock-model"));
  auto direct = request(mock.port(), req);
  auto proxied = request(gateway.port(), req);
  ASSERT_EQ(direct.status, 200);
  ASSERT_EQ(proxied.status, 200);
  EXPECT_EQ(proxied.body, direct.body);
  EXPECT_EQ(proxied.header("content-type"), "application/json");
  EXPECT_EQ(proxied.header("content-length"), std::to_string(direct.body.size()));
  auto json = boost::json::parse(proxied.body).as_object();
  EXPECT_EQ(json.at("object").as_string(), "chat.completion");
}

TEST_F(ProxyTest, StreamingResponseIsByteIdenticalToDirect) {
  const auto req = jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"x-mock-tokens: 40"});
  auto direct = request(mock.port(), req);
  auto proxied = request(gateway.port(), req);
  ASSERT_EQ(proxied.status, 200);
  ASSERT_TRUE(proxied.complete);
  EXPECT_EQ(proxied.header("content-type"), "text/event-stream");
  EXPECT_EQ(proxied.header("transfer-encoding"), "chunked");
  EXPECT_EQ(proxied.body, direct.body);
  EXPECT_NE(proxied.body.find("data: [DONE]\n\n"), std::string::npos);
}

TEST_F(ProxyTest, CompletionsEmbeddingsAndModelsAreProxied) {
  auto completion = request(gateway.port(), jsonPost("/v1/completions", R"({"model":"mock-a","prompt":"hi"})"));
  EXPECT_EQ(completion.status, 200);
  EXPECT_NE(completion.body.find("text_completion"), std::string::npos);
  auto embedding = request(gateway.port(), jsonPost("/v1/embeddings", R"({"model":"mock-e","input":"hi"})"));
  EXPECT_EQ(embedding.status, 200);
  EXPECT_NE(embedding.body.find("\"embedding\""), std::string::npos);
  auto models = request(gateway.port(), simpleGet("/v1/models"));
  EXPECT_EQ(models.status, 200);
  EXPECT_NE(models.body.find("mock-small"), std::string::npos);
}

TEST_F(ProxyTest, KeepAliveReusesOneUpstreamConnection) {
  mock.reset();
  Connection c(gateway.port());
  for (int i = 0; i < 20; ++i) {
    c.send(jsonPost("/v1/chat/completions", chatBody("mock-model", i % 2 == 0)));
    auto r = c.read();
    ASSERT_EQ(r.status, 200) << i;
    ASSERT_TRUE(r.complete);
  }
  auto stats = mock.stats();
  EXPECT_EQ(stats.at("requests").to_number<std::uint64_t>(), 20u);
  EXPECT_EQ(stats.at("connections").to_number<std::uint64_t>(), 1u);
}

// A connection reuses its request body's memory and its header blocks from one
// request to the next: a short request after a long one must carry exactly its
// own body and headers, nothing left over from the one before.
TEST_F(ProxyTest, KeepAliveRequestsCarryOnlyTheirOwnBodyAndHeaders) {
  Connection c(gateway.port());
  std::string longPrompt(70 * 1024, 'x');  // above what a connection keeps, then below it
  const std::vector<std::string> prompts = {std::string(2000, 'a'), "b", longPrompt, "cc", std::string(500, 'd'), ""};
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const std::string body =
        R"({"model":"mock-model","messages":[{"role":"user","content":")" + prompts[i] + R"("}]})";
    std::vector<std::string> headers = {"x-request-id: keep-" + std::to_string(i)};
    if (i % 2 == 0) headers.push_back("X-Only-Even: " + std::string(100 + i, 'h'));
    c.send(jsonPost("/v1/chat/completions", body, headers));
    auto r = c.read();
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.header("x-request-id"), "keep-" + std::to_string(i));
    EXPECT_EQ(lastBody(), body) << i;
    const auto head = lastHead();
    EXPECT_EQ(head.find("X-Only-Even") != std::string::npos, i % 2 == 0) << head;
  }
}

TEST_F(ProxyTest, PipelinedRequestsAreAnsweredInOrder) {
  Connection c(gateway.port());
  std::string batch;
  for (int i = 0; i < 3; ++i)
    batch += jsonPost("/v1/chat/completions", chatBody("mock-model", i == 1), {"x-request-id: pipe-" + std::to_string(i)});
  c.send(batch);
  for (int i = 0; i < 3; ++i) {
    auto r = c.read();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-request-id"), "pipe-" + std::to_string(i));
  }
}

// A body whose head arrives first is read straight into place: the read stops
// at its declared length, so the next pipelined request (sent in the same
// packet as the first body's end) keeps every byte, and both bodies reach the
// model server whole.
TEST_F(ProxyTest, BodiesReadIntoPlaceLeaveTheNextPipelinedRequestWhole) {
  const std::string big = R"({"model":"mock-model","messages":[{"role":"user","content":")" +
                          std::string(300000, 'p') + R"("}],"max_tokens":4})";
  const std::string small = chatBody("mock-model");
  const auto first = jsonPost("/v1/chat/completions", big, {"x-request-id: in-place-1"});
  const auto second = jsonPost("/v1/chat/completions", small, {"x-request-id: in-place-2"});
  Connection c(gateway.port());
  const auto split = first.size() - big.size() + 1000;  // the head and 1,000 bytes of the body
  c.send(first.substr(0, split));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.send(first.substr(split) + second);
  auto r1 = c.read();
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(r1.header("x-request-id"), "in-place-1");
  auto r2 = c.read();
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(r2.header("x-request-id"), "in-place-2");
  EXPECT_EQ(std::string(mock.stats().at("last_request_body").as_string()), small);
}

TEST_F(ProxyTest, HopByHopHeadersAreStrippedAndIdentityHeadersSet) {
  auto r = request(gateway.port(),
                   jsonPost("/v1/chat/completions", chatBody("mock-model"),
                            {"Connection: keep-alive, X-Drop-Me", "X-Drop-Me: hop", "Keep-Alive: timeout=5",
                             "TE: trailers", "Proxy-Authorization: Basic Zm9v", "Authorization: Bearer client-key",
                             "X-Forwarded-For: 203.0.113.7", "X-Custom: kept", "x-request-id: client-id-42"}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-request-id"), "client-id-42");
  const auto head = lastHead();
  EXPECT_EQ(head.find("X-Drop-Me"), std::string::npos) << head;
  EXPECT_EQ(head.find("Keep-Alive"), std::string::npos) << head;
  EXPECT_EQ(head.find("TE:"), std::string::npos) << head;
  EXPECT_EQ(head.find("Proxy-Authorization"), std::string::npos) << head;
  EXPECT_EQ(head.find("client-key"), std::string::npos) << head;
  EXPECT_NE(head.find("Authorization: Bearer sk-upstream-secret\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Custom: kept\n"), std::string::npos) << head;
  // Not a trusted proxy: the client's X-Forwarded-For is replaced by its address.
  EXPECT_NE(head.find("X-Forwarded-For: 127.0.0.1\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("203.0.113.7"), std::string::npos) << head;
  EXPECT_NE(head.find("x-request-id: client-id-42\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(mock.port()) + "\n"), std::string::npos) << head;
}

TEST_F(ProxyTest, RequestIdIsGeneratedWhenMissingOrUnsafe) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-request-id: bad id!"}));
  ASSERT_EQ(r.status, 200);
  const auto id = r.header("x-request-id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_NE(lastHead().find("x-request-id: " + id + "\n"), std::string::npos);
}

TEST_F(ProxyTest, RoutesByModelGlobAndRenamesModel) {
  auto renamed = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("small")));
  ASSERT_EQ(renamed.status, 200);
  EXPECT_EQ(lastBody(), chatBody("mock-small"));
  EXPECT_NE(renamed.body.find(R"("model":"mock-small")"), std::string::npos);
  auto exact = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("exact-model")));
  EXPECT_EQ(exact.status, 200);
  EXPECT_EQ(lastBody(), chatBody("exact-model"));
}

TEST_F(ProxyTest, UnknownModelOrPathIs404AndNeverReachesBackend) {
  mock.reset();
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("exact-model-2")));
  EXPECT_EQ(r.status, 404);
  auto json = boost::json::parse(r.body).as_object();
  EXPECT_EQ(json.at("error").at("code").as_string(), "route_not_found");
  EXPECT_EQ(json.at("error").at("param").as_string(), "model");
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto other = request(gateway.port(), simpleGet("/admin/secret"));
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);
}

TEST_F(ProxyTest, InvalidJsonIs400WithRequestIdInLog) {
  mock.reset();
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", R"({"model": "mock-model", )"));
  EXPECT_EQ(r.status, 400);
  auto json = boost::json::parse(r.body).as_object();
  EXPECT_EQ(json.at("error").at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);
  const auto id = r.header("x-request-id");
  ASSERT_FALSE(id.empty());
  EXPECT_NE(gateway.process().stderrText().find("request_id=" + id), std::string::npos);
}

TEST_F(ProxyTest, ExpectContinueIsAnsweredByTheGateway) {
  const auto body = chatBody("mock-model");
  Connection c(gateway.port());
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  auto interim = c.read(std::chrono::seconds(2));
  EXPECT_EQ(interim.status, 100);
  c.send(body);
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(lastHead().find("Expect"), std::string::npos);
}

TEST_F(ProxyTest, UpstreamErrorStatusIsRelayedAsIs) {
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-status: 429"}));
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("injected failure"), std::string::npos);
}

TEST(ProxyBalancing, RoundRobinAcrossEndpoints) {
  MockServer a, b;
  ConfigKnobs k;
  k.extraEndpointPorts = {b.port()};
  Gateway gateway(standardConfig(a.port(), k));
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_EQ(a.stats().at("requests").to_number<std::uint64_t>(), 5u);
  EXPECT_EQ(b.stats().at("requests").to_number<std::uint64_t>(), 5u);
}

TEST(ProxyPool, StalePooledConnectionIsReplacedTransparently) {
  auto first = std::make_unique<MockServer>();
  const auto port = first->port();
  Gateway gateway(standardConfig(port));
  Connection c(gateway.port());
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
  ASSERT_EQ(c.read().status, 200);
  // The model server restarts: the pooled connection is now dead.
  first.reset();
  MockServer second({}, port);
  c.send(jsonPost("/v1/chat/completions", chatBody("mock-model")));
  auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(second.stats().at("requests").to_number<std::uint64_t>(), 1u);
}

// Pooled connections idle longer than idle_ttl are not reused (the pool reads
// idle ages from the coarse clock), and ones within it are.
TEST(ProxyPool, ConnectionIdleLongerThanItsTtlIsNotReused) {
  MockServer mock{{"--deterministic"}};
  ConfigKnobs k;
  k.poolIdleTtl = "300ms";
  Gateway gateway{standardConfig(mock.port(), k)};
  const auto send = [&] {
    auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
    ASSERT_EQ(r.status, 200);
  };
  send();
  send();  // at once: the pooled connection is reused
  EXPECT_EQ(mock.stats().at("connections").to_number<std::uint64_t>(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  send();  // the idle connection has outlived its ttl: a new one
  EXPECT_EQ(mock.stats().at("connections").to_number<std::uint64_t>(), 2u);
}

TEST(ProxyUpstream, RefusedConnectionIs502) {
  ClosedPort dead;
  ConfigKnobs k;
  k.backendExtra = "    retry: {max_attempts: 1}\n";
  Gateway gateway(standardConfig(dead.port(), k));
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model")));
  EXPECT_EQ(r.status, 502);
  auto json = boost::json::parse(r.body).as_object();
  EXPECT_EQ(json.at("error").at("code").as_string(), "upstream_connect_error");
}

TEST_F(ProxyTest, LargeRequestBodyReachesBackendIntact) {
  std::string prompt;
  for (int i = 0; prompt.size() < 300 * 1024; ++i) prompt += "word" + std::to_string(i) + " ";
  const std::string body = R"({"model":"mock-model","messages":[{"role":"user","content":")" + prompt + R"("}]})";
  auto r = request(gateway.port(), jsonPost("/v1/chat/completions", body));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(lastBody(), body);
}

TEST_F(ProxyTest, LargeResponsesAreRelayedWhole) {
  const auto req = jsonPost("/v1/chat/completions", chatBody("mock-model"), {"x-mock-tokens: 60000"});
  auto direct = request(mock.port(), req);
  auto proxied = request(gateway.port(), req);
  ASSERT_EQ(proxied.status, 200);
  ASSERT_GT(direct.body.size(), 300u * 1024);
  EXPECT_EQ(proxied.body, direct.body);
  const auto streamReq = jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"x-mock-tokens: 5000"});
  auto directStream = request(mock.port(), streamReq);
  auto proxiedStream = request(gateway.port(), streamReq);
  ASSERT_TRUE(proxiedStream.complete);
  EXPECT_EQ(proxiedStream.body, directStream.body);
}
