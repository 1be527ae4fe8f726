// Shared caps through a real gateway: connections in all and per client
// address, and request bodies held at once. Over a cap the answer is an
// immediate 503 `overloaded` (counted by reason), and the gateway keeps
// serving everyone else.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;

namespace {

// Waits until the gateway counts `n` open client connections.
void waitForConnections(Gateway& gateway, double n) {
  for (int i = 0; i < 200; ++i) {
    if (seriesValue(scrape(gateway.adminPort()), "infergate_downstream_connections") == n) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "the gateway never had " << n << " connections open";
}

void expectOverloaded(const Response& r) {
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(boost::json::parse(r.body).at("error").at("code").as_string(), "overloaded");
}

}  // namespace

TEST(ConnectionLimits, ConnectionsOverTheCapGet503AtOnceAndAFreedSlotIsReused) {
  MockServer mock;
  ConfigKnobs k;
  k.limitsExtra = "    max_connections: 3\n";
  Gateway gateway(standardConfig(mock.port(), k));
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<Connection>(gateway.port()));
  waitForConnections(gateway, 3);
  Connection extra(gateway.port());
  expectOverloaded(extra.read(std::chrono::seconds(2)));
  EXPECT_TRUE(extra.waitClosed(std::chrono::seconds(2)));
  // The held connections still work, and a closed one frees its slot.
  held[0]->send(simpleGet("/v1/models"));
  EXPECT_EQ(held[0]->read(std::chrono::seconds(3)).status, 200u);
  held[1]->close();
  waitForConnections(gateway, 2);
  EXPECT_EQ(request(gateway.port(), simpleGet("/v1/models")).status, 200u);
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), R"(infergate_downstream_refused_total{reason="max_connections"})"), 1);
  EXPECT_NE(gateway.process().stderrText().find("refused 1 connection(s) over a cap (503 overloaded; on the HTTPS port, closed); the last by max_connections"),
            std::string::npos)
      << gateway.process().stderrText();
}

TEST(ConnectionLimits, OneClientAddressCannotTakeMoreThanItsShare) {
  MockServer mock;
  ConfigKnobs k;
  k.workers = 2;  // the count is shared by workers
  k.limitsExtra = "    max_connections_per_client: 4\n";
  Gateway gateway(standardConfig(mock.port(), k));
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<Connection>(gateway.port()));
  waitForConnections(gateway, 4);
  for (int i = 0; i < 3; ++i) {
    Connection extra(gateway.port());
    expectOverloaded(extra.read(std::chrono::seconds(2)));
  }
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), R"(infergate_downstream_refused_total{reason="max_connections_per_client"})"),
            3);
  held.clear();
  waitForConnections(gateway, 0);
  EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200u);
}

// Slow uploads hold memory: each declared body is counted when its head
// arrives, and one that would take the total over the budget is refused
// before a byte of it is read. Finished requests give their share back.
TEST(ConnectionLimits, BodiesHeldAtOnceStayWithinTheBudget) {
  MockServer mock;
  ConfigKnobs k;
  k.maxBody = "1MiB";
  k.limitsExtra = "    max_buffered_body: 2MiB\n";
  Gateway gateway(standardConfig(mock.port(), k));
  const std::size_t declared = 900 * 1024;
  auto slowUpload = [&] {
    auto c = std::make_unique<Connection>(gateway.port());
    c->send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(declared) + "\r\n\r\n{\"model\":");
    return c;
  };
  auto first = slowUpload();
  auto second = slowUpload();
  for (int i = 0; i < 200 && seriesValue(scrape(gateway.adminPort()), "infergate_buffered_request_body_bytes") < 2.0 * declared;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), "infergate_buffered_request_body_bytes"), 2.0 * declared);
  auto third = slowUpload();
  expectOverloaded(third->read(std::chrono::seconds(2)));
  // A small request still fits in what is left.
  EXPECT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200u);
  first->close();
  second->close();
  for (int i = 0; i < 200 && seriesValue(scrape(gateway.adminPort()), "infergate_buffered_request_body_bytes") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), "infergate_buffered_request_body_bytes"), 0);
  auto fourth = slowUpload();
  fourth->send(std::string(declared - 9, ' '));  // completes the body: `{"model":` then spaces is not JSON
  EXPECT_EQ(fourth->read(std::chrono::seconds(3)).status, 400u);
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), R"(infergate_downstream_refused_total{reason="max_buffered_body"})"), 1);
}

// A chunked body declares no length: it is counted as it grows, and refused
// when its growth would pass the budget.
TEST(ConnectionLimits, ChunkedBodiesAreCountedAsTheyGrow) {
  MockServer mock;
  ConfigKnobs k;
  k.maxBody = "1MiB";
  k.limitsExtra = "    max_buffered_body: 1MiB\n";
  Gateway gateway(standardConfig(mock.port(), k));
  Connection held(gateway.port());
  held.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 921600\r\n\r\n{");
  for (int i = 0; i < 200 && seriesValue(scrape(gateway.adminPort()), "infergate_buffered_request_body_bytes") < 921600; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Connection chunked(gateway.port());
  const std::string chunk(200 * 1024, ' ');
  std::ostringstream size;
  size << std::hex << chunk.size();
  chunked.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + size.str() +
               "\r\n" + chunk + "\r\n");
  expectOverloaded(chunked.read(std::chrono::seconds(3)));
  EXPECT_EQ(seriesValue(scrape(gateway.adminPort()), R"(infergate_downstream_refused_total{reason="max_buffered_body"})"), 1);
  EXPECT_EQ(mock.stats().at("requests").to_number<std::uint64_t>(), 0u);
}
