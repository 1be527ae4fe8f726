// Client API keys end to end: a real gateway with an auth section (a key from
// the environment, a digest restricted to one model, an expired key, a keys
// file) in front of the mock model server.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/key_digest.hpp"

using namespace testsupport;

namespace {

const std::string kTeamKey = "sk-team-a-0123456789abcdef";     // given through the environment
const std::string kNarrowKey = "sk-narrow-fedcba9876543210";   // configured by its digest only
const std::string kOldKey = "sk-expired-aaaabbbbccccdddd";     // expired
const std::string kFileKey = "sk-from-file-1111222233334444";  // in the keys file
const std::string kUpstreamKey = "sk-upstream-should-be-the-only-one";

struct AuthGateway {
  MockServer mock{{"--record"}};
  std::string accessLog = unusedTempPath(".log");
  std::string sink = unusedTempPath(".jsonl");
  std::string keysFile = writeTempFile("- name: from-file\n  sha256: " + sha256Hex(kFileKey) +
                                           "\n  routes: [chat]\n",
                                       ".yaml");
  std::unique_ptr<Gateway> gw;

  AuthGateway() {
    ConfigKnobs k;
    k.backendHeaders = "      Authorization: \"Bearer " + kUpstreamKey + "\"\n";
    k.topLevel = "auth:\n  keys_file: " + keysFile +
                 "\n  keys:\n"
                 "    - name: team-a\n      key: ${TEAM_A_KEY}\n"
                 "    - name: narrow\n      sha256: " + sha256Hex(kNarrowKey) +
                 "\n      models: [mock-small]\n"
                 "    - name: old\n      sha256: " + sha256Hex(kOldKey) +
                 "\n      expires: 2020-01-01\n"
                 "access_log:\n  enabled: true\n  path: " + accessLog +
                 "\nmetrics:\n  model_labels: [mock-small, mock-large]\n"
                 "sampling:\n  rate: 1\n  sink:\n    path: " + sink + "\n";
    k.routes =
        "routes:\n"
        "  - name: models\n    path_prefix: /v1/models\n    backend: mock\n    auth: \"off\"\n"
        "  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\"]\n    backend: mock\n";
    gw = std::make_unique<Gateway>(standardConfig(mock.port(), k), std::vector<std::string>{"TEAM_A_KEY=" + kTeamKey});
  }

  Response chat(std::vector<std::string> headers, const std::string& model = "mock-small") {
    return request(gw->port(), jsonPost("/v1/chat/completions",
                                        R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}]})",
                                        std::move(headers)));
  }
  std::string lastUpstreamHead() { return std::string(mock.stats().at("last_request_head").as_string()); }
};


std::string errorCode(const Response& r) {
  return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
}

}  // namespace

TEST(ApiKeys, OnlyAConfiguredKeyIsAdmittedAndNeverForwarded) {
  AuthGateway g;
  // The three ways clients send a key.
  for (const std::string& header :
       {"Authorization: Bearer " + kTeamKey, "api-key: " + kTeamKey, "x-api-key: " + kTeamKey}) {
    const auto r = g.chat({header, "x-request-id: ok"});
    ASSERT_EQ(r.status, 200) << header << ": " << r.body;
    const auto upstream = g.lastUpstreamHead();
    EXPECT_EQ(upstream.find(kTeamKey), std::string::npos) << "the client's key reached the model server: " << upstream;
    EXPECT_NE(upstream.find("Bearer " + kUpstreamKey), std::string::npos) << upstream;
  }
  // A key from the keys file, on the route it names.
  EXPECT_EQ(g.chat({"Authorization: Bearer " + kFileKey}).status, 200);

  // Refusals: missing, wrong, malformed, several, expired.
  const std::vector<std::vector<std::string>> refused = {
      {},
      {"Authorization: Bearer sk-wrong-key-0000000000000000"},
      {"Authorization: Bearer "},
      {"Authorization: Basic dXNlcjpwYXNz"},
      {"Authorization: Bearer " + std::string(300, 'k')},
      {"Authorization: Bearer sk-caf\xc3\xa9-0000000000000"},
      {"Authorization: Bearer " + kTeamKey, "x-api-key: " + kTeamKey},
      {"Authorization: Bearer " + kOldKey},
  };
  for (const auto& headers : refused) {
    const auto r = g.chat(headers);
    EXPECT_EQ(r.status, 401) << (headers.empty() ? "no key" : headers[0]);
    EXPECT_EQ(errorCode(r), "invalid_api_key");
    EXPECT_EQ(r.body.find("sk-wrong"), std::string::npos) << "an error body repeats the key presented";
    EXPECT_EQ(r.body.find(kTeamKey), std::string::npos);
  }
  // A key outside its models is forbidden, not unknown.
  EXPECT_EQ(g.chat({"Authorization: Bearer " + kNarrowKey}, "mock-small").status, 200);
  const auto wrongModel = g.chat({"Authorization: Bearer " + kNarrowKey}, "mock-large");
  EXPECT_EQ(wrongModel.status, 403);
  EXPECT_EQ(errorCode(wrongModel), "model_not_allowed");
  // A route with auth off needs no key.
  EXPECT_EQ(request(g.gw->port(), simpleGet("/v1/models")).status, 200);
}

TEST(ApiKeys, TheKeysNameIsLoggedSampledAndCountedButNeverTheKey) {
  AuthGateway g;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(g.chat({"Authorization: Bearer " + kTeamKey, "x-request-id: team-" + std::to_string(i)}).status, 200);
  ASSERT_EQ(g.chat({"Authorization: Bearer sk-unknown-key-999999999999"}).status, 401);
  const auto metrics = scrapeAfter(g.gw->adminPort(), 4);
  EXPECT_EQ(seriesValue(metrics, "infergate_key_requests_total{key=\"team-a\",route=\"chat\"}"), 3);
  EXPECT_GT(seriesValue(metrics, "infergate_key_tokens_total{key=\"team-a\",kind=\"completion\"}"), 0);
  EXPECT_EQ(metrics.find("sk-"), std::string::npos) << "a key in the metrics";
  EXPECT_NE(metrics.find("cause=\"client_unauthorized\""), std::string::npos);

  std::string log, samples;
  for (int i = 0; i < 100 && (log.find("team-2") == std::string::npos || samples.find("team-2") == std::string::npos);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    log = readFile(g.accessLog);
    samples = readFile(g.sink);
  }
  EXPECT_NE(log.find(R"("key":"team-a")"), std::string::npos) << log;
  EXPECT_NE(samples.find(R"("key":"team-a")"), std::string::npos) << samples;
  for (const auto& text : {log, samples}) {
    EXPECT_EQ(text.find(kTeamKey), std::string::npos) << "the key itself was written";
    EXPECT_EQ(text.find("sk-unknown"), std::string::npos) << "a presented key was written";
  }
}

TEST(ApiKeys, ABrokenAuthSectionOrKeysFileFailsTheCheckWithItsPlace) {
  const auto keysFile = writeTempFile("- name: fine\n  sha256: " + std::string(64, 'a') +
                                          "\n- name: plain\n  key: sk-plain-in-a-file-0000000\n"
                                          "- name: short\n  sha256: abc\n",
                                      ".yaml");
  ConfigKnobs k;
  k.topLevel = "auth:\n  keys_file: " + keysFile +
               "\n  keys:\n    - name: bad name!\n      key: ${NOT_SET_ANYWHERE}\n"
               "    - name: nowhere\n      sha256: " + std::string(64, 'b') + "\n      routes: [missing]\n"
               "    - name: when\n      sha256: " + std::string(64, 'c') + "\n      expires: someday\n";
  const auto config = writeTempFile(standardConfig(9, k));
  Process check({gatewayBinary(), "--config", config, "--check"});
  EXPECT_EQ(check.wait(std::chrono::seconds(10)), 1);
  const auto out = check.stderrText();
  EXPECT_NE(out.find(keysFile + ":4:"), std::string::npos) << out;  // the plain key, where it is
  EXPECT_NE(out.find(keysFile + ":6:"), std::string::npos) << out;  // the short digest
  EXPECT_NE(out.find("NOT_SET_ANYWHERE"), std::string::npos) << out;
  EXPECT_NE(out.find("unknown route 'missing'"), std::string::npos) << out;
  EXPECT_NE(out.find("expires must be"), std::string::npos) << out;
  EXPECT_NE(out.find("metric label"), std::string::npos) << out;
}

// The admin listener's token: every POST needs it, GETs too with
// protect_reads, except the probes and (metrics_open) the scrape.
TEST(AdminToken, PostsAndProtectedReadsNeedTheTokenProbesAndTheScrapeDoNot) {
  MockServer mock;
  const std::string token = "admin-token-0123456789abcdef";
  const std::string adminSection = "admin:\n  listen: 127.0.0.1:0\n";
  auto yaml = standardConfig(mock.port());
  yaml.insert(yaml.find(adminSection) + adminSection.size(),
              "  token: ${ADMIN_TOKEN}\n  protect_reads: true\n  metrics_open: true\n");
  Gateway guarded(yaml, {"ADMIN_TOKEN=" + token});
  const auto port = guarded.adminPort();
  const auto post = [&](std::vector<std::string> headers) {
    return request(port, jsonPost("/admin/drift/baseline", "{}", std::move(headers)));
  };
  const auto get = [&](const std::string& path, std::vector<std::string> headers = {}) {
    return request(port, simpleGet(path, headers));
  };
  EXPECT_EQ(post({}).status, 401);
  EXPECT_EQ(post({"Authorization: Bearer not-the-admin-token-000"}).status, 401);
  EXPECT_NE(post({"Authorization: Bearer " + token}).status, 401);
  EXPECT_EQ(get("/admin/backends").status, 401);
  EXPECT_EQ(get("/admin/backends", {"Authorization: Bearer " + token}).status, 200);
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/readyz").status, 200);
  // Without a token configured nothing changes (loopback by default).
  Gateway open(standardConfig(mock.port()));
  EXPECT_EQ(request(open.adminPort(), simpleGet("/admin/backends")).status, 200);
}

// Guessing keys costs time: an address past its refused keys per minute is
// told to wait, and its next key is not looked at.
TEST(ApiKeys, AFloodOfRefusedKeysIsRateLimitedPerAddress) {
  MockServer mock;
  ConfigKnobs k;
  k.topLevel = "auth:\n  max_failures_per_minute: 3\n  keys:\n    - name: team-a\n      key: ${TEAM_A_KEY}\n";
  Gateway gw(standardConfig(mock.port(), k), {"TEAM_A_KEY=" + kTeamKey});
  const auto chat = [&](const std::string& key) {
    return request(gw.port(), jsonPost("/v1/chat/completions",
                                       R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})",
                                       {"Authorization: Bearer " + key}));
  };
  EXPECT_EQ(chat(kTeamKey).status, 200);  // successes cost nothing
  for (int i = 0; i < 3; ++i) EXPECT_EQ(chat("sk-guess-" + std::to_string(i) + "-0000000000000").status, 401) << i;
  const auto waiting = chat("sk-guess-3-0000000000000");
  EXPECT_EQ(waiting.status, 429);
  EXPECT_GE(std::stoi(waiting.header("retry-after")), 1);
  // While it waits even a right key is not looked at: a different answer would tell a guess apart.
  EXPECT_EQ(chat(kTeamKey).status, 429);
  const auto metrics = scrapeAfter(gw.adminPort(), 6);
  EXPECT_EQ(seriesValue(metrics, "infergate_key_requests_total{key=\"team-a\",route=\"chat\"}"), 1);
}

// Feedback takes the same keys, and a key may label only its own requests.
TEST(ApiKeys, FeedbackNeedsAKeyAndOnlyLabelsThatKeysRequests) {
  MockServer mock;
  const std::string otherKey = "sk-team-b-fedcba9876543210";
  ConfigKnobs k;
  k.topLevel = "auth:\n  keys:\n    - name: team-a\n      key: ${TEAM_A_KEY}\n    - name: team-b\n      key: ${TEAM_B_KEY}\n"
               "sampling:\n  rate: 1\n";
  Gateway gw(standardConfig(mock.port(), k), {"TEAM_A_KEY=" + kTeamKey, "TEAM_B_KEY=" + otherKey});
  ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions",
                                        R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})",
                                        {"Authorization: Bearer " + kTeamKey, "x-request-id: a-1"}))
                .status,
            200);
  const auto feedback = [&](std::vector<std::string> headers) {
    Response r;
    // The sample is stored off the request path: retry a moment while it is not yet known.
    for (int i = 0; i < 50; ++i) {
      r = request(gw.port(), jsonPost("/v1/feedback", R"({"request_id":"a-1","label":"bad"})", headers));
      if (r.status != 404 || headers.empty() || headers[0].find(kTeamKey) == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  };
  EXPECT_EQ(feedback({}).status, 401);
  EXPECT_EQ(feedback({"Authorization: Bearer sk-nobody-000000000000"}).status, 401);
  EXPECT_EQ(feedback({"Authorization: Bearer " + kTeamKey}).status, 200);
  EXPECT_EQ(feedback({"Authorization: Bearer " + otherKey}).status, 404);  // not team-b's request
}

// Only a trusted proxy's X-Forwarded-For says who the client is; from anyone
// else the forwarding headers are replaced, never passed on or believed.
TEST(TrustedProxies, OnlyATrustedPeerSaysWhoTheClientIs) {
  for (const bool trusted : {true, false}) {
    MockServer mock{{"--record"}};
    ConfigKnobs k;
    k.serverExtra = trusted ? "  trusted_proxies: [127.0.0.0/8]\n" : "";
    k.topLevel = "auth:\n  max_failures_per_minute: 2\n  keys:\n    - name: team-a\n      key: ${TEAM_A_KEY}\n";
    Gateway gw(standardConfig(mock.port(), k), {"TEAM_A_KEY=" + kTeamKey});
    const auto chat = [&](const std::string& key, const std::string& client) {
      return request(gw.port(), jsonPost("/v1/chat/completions",
                                         R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})",
                                         {"Authorization: Bearer " + key, "X-Forwarded-For: 198.51.100.1, " + client,
                                          "X-Real-IP: 192.0.2.99"}));
    };
    // Two refused keys for one client use its budget up.
    EXPECT_EQ(chat("sk-guess-1-0000000000000", "203.0.113.9").status, 401);
    EXPECT_EQ(chat("sk-guess-2-0000000000000", "203.0.113.9").status, 401);
    EXPECT_EQ(chat("sk-guess-3-0000000000000", "203.0.113.9").status, 429) << "trusted=" << trusted;
    // Another client behind the trusted proxy has its own; untrusted, the header means nothing.
    EXPECT_EQ(chat("sk-guess-4-0000000000000", "203.0.113.10").status, trusted ? 401 : 429) << "trusted=" << trusted;

    Gateway fresh(standardConfig(mock.port(), k), {"TEAM_A_KEY=" + kTeamKey});
    ASSERT_EQ(request(fresh.port(), jsonPost("/v1/chat/completions",
                                             R"({"model":"mock-model","messages":[{"role":"user","content":"hi"}]})",
                                             {"Authorization: Bearer " + kTeamKey,
                                              "X-Forwarded-For: 203.0.113.9", "X-Real-IP: 192.0.2.99"}))
                  .status,
              200);
    const auto head = std::string(mock.stats().at("last_request_head").as_string());
    if (trusted) {
      EXPECT_NE(head.find("203.0.113.9, 127.0.0.1"), std::string::npos) << head;
      EXPECT_NE(head.find("192.0.2.99"), std::string::npos) << head;
    } else {
      EXPECT_EQ(head.find("203.0.113.9"), std::string::npos) << "a client's X-Forwarded-For was passed on: " << head;
      EXPECT_EQ(head.find("192.0.2.99"), std::string::npos) << "a client's X-Real-IP was passed on: " << head;
      EXPECT_NE(head.find("127.0.0.1"), std::string::npos) << head;
    }
  }
}
