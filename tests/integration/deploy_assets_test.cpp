// The monitoring assets in deploy/ work against a real gateway: the dashboard
// only queries metrics that exist, and a real Prometheus server loads the
// shipped config and rules, scrapes the gateway and answers queries.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

using namespace testsupport;
namespace fs = std::filesystem;

namespace {


void collectExprs(const boost::json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.as_object()) {
      if (key == "expr" && value.is_string()) out.emplace_back(value.as_string());
      else collectExprs(value, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v.as_array()) collectExprs(item, out);
  }
}

std::string urlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

// The selectors of the dashboard's query variables: label_values(SELECTOR, label).
std::vector<std::string> variableSelectors(const boost::json::value& dashboard) {
  std::vector<std::string> out;
  static const std::regex labelValues(R"(^label_values\((.+), *\w+\)$)");
  for (const auto& v : dashboard.at("templating").at("list").as_array()) {
    if (v.at("type").as_string() != "query") continue;
    const std::string query(v.at("query").as_string());
    std::smatch m;
    EXPECT_TRUE(std::regex_match(query, m, labelValues)) << query;
    if (!m.empty()) out.push_back(m[1]);
  }
  return out;
}

TEST(DeployAssets, DashboardQueriesOnlyMetricsThatExist) {
  const fs::path dashboard = fs::path(SOURCE_DIR) / "deploy/grafana/infergate-dashboard.json";
  const auto json = boost::json::parse(readFile(dashboard));
  std::vector<std::string> exprs;
  collectExprs(json, exprs);
  ASSERT_GE(exprs.size(), 10u);
  for (auto& selector : variableSelectors(json)) exprs.push_back(selector);

  // A repeated row repeats over a variable the dashboard defines, and its
  // panels (up to the next row) filter on it.
  std::set<std::string> variables;
  for (const auto& v : json.at("templating").at("list").as_array()) variables.insert(std::string(v.at("name").as_string()));
  std::string repeating;
  int repeatedPanels = 0;
  for (const auto& panel : json.at("panels").as_array()) {
    const auto& p = panel.as_object();
    if (p.at("type").as_string() == "row") {
      repeating = p.contains("repeat") ? std::string(p.at("repeat").as_string()) : "";
      if (!repeating.empty()) {
        EXPECT_TRUE(variables.count(repeating)) << repeating;
      }
      continue;
    }
    if (repeating.empty()) continue;
    ++repeatedPanels;
    std::vector<std::string> own;
    collectExprs(panel, own);
    for (const auto& e : own) EXPECT_NE(e.find("$" + repeating), std::string::npos) << e;
  }
  EXPECT_GE(repeatedPanels, 2);

  MockServer mock;
  // With a judge configured (the mock plays it), so the judge's series exist too.
  ConfigKnobs k;
  k.topLevel = "sampling:\n  judge:\n    backend: judge\n    model: judge-model\n";
  // And a client key with a limit kept in a real Redis, so the key, rate-limit
  // and store series exist.
  RedisServer redis;
  k.topLevel += "auth:\n  keys:\n    - name: team\n      key: ${DASHBOARD_KEY}\n"
                "      limits: {requests_per_minute: 1000, tokens_per_minute: 1000000}\n"
                "rate_limits:\n  store: redis\n  redis:\n    address: " + redis.address() + "\n";
  // The judge's endpoint named by host, so the name-resolution series exist too.
  // The model backend's signals (the mock exports vLLM's), so the model-server series exist.
  k.backendExtra = "    signals: {kind: vllm, interval: 50ms, shed_waiting: 1000}\n"
                   "  - name: judge\n    endpoints:\n      - url: http://localhost:" + std::to_string(mock.port()) + "\n";
  const std::string key = "sk-dashboard-key-0123456789";
  Gateway gateway(standardConfig(mock.port(), k), {"DASHBOARD_KEY=" + key});
  request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model", true), {"Authorization: Bearer " + key}));
  auto text = scrape(gateway.adminPort());
  for (int i = 0; i < 100 && text.find("infergate_backend_requests_waiting{") == std::string::npos; ++i) {
    usleep(20'000);
    text = scrape(gateway.adminPort());
  }
  std::set<std::string> families;
  std::regex typeLine(R"(# TYPE (\S+) )");
  for (std::sregex_iterator it(text.begin(), text.end(), typeLine), end; it != end; ++it) families.insert((*it)[1]);

  std::regex metric(R"(\b((?:infergate|process)_[a-z_]+))");
  std::set<std::string> used;
  for (const auto& e : exprs)
    for (std::sregex_iterator it(e.begin(), e.end(), metric), end; it != end; ++it) used.insert((*it)[1]);
  ASSERT_GE(used.size(), 9u);
  for (auto name : used) {
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (name.ends_with(suffix) && !families.count(name)) name.resize(name.size() - std::strlen(suffix));
    EXPECT_TRUE(families.count(name)) << "dashboard queries " << name << ", which the gateway does not export";
  }
}

TEST(DeployAssets, RealPrometheusScrapesTheGatewayWithTheShippedConfig) {
  MockServer mock;
  Gateway gateway(standardConfig(mock.port()));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(request(gateway.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);

  // The shipped config and rules, with the target pointed at this gateway.
  const fs::path deploy = fs::path(SOURCE_DIR) / "deploy/prometheus";
  const fs::path dir = fs::temp_directory_path() / ("infergate-prom-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  fs::copy(deploy / "rules", dir / "rules", fs::copy_options::recursive);
  auto config = readFile(deploy / "prometheus.yml");
  config = std::regex_replace(config, std::regex(R"(127\.0\.0\.1:9090)"),
                              "127.0.0.1:" + std::to_string(gateway.adminPort()));
  config = std::regex_replace(config, std::regex(R"(scrape_interval: 15s)"), "scrape_interval: 1s");
  std::ofstream(dir / "prometheus.yml") << config;

  const auto port = freePort();
  Process prometheus({"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                      "--storage.tsdb.path=" + (dir / "data").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  std::string value;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline && prometheus.running()) {
    try {
      auto r = request(port, simpleGet("/api/v1/query?query=sum(infergate_requests_total)"));
      if (r.status == 200) {
        auto json = boost::json::parse(r.body);
        const auto& result = json.at("data").at("result").as_array();
        if (!result.empty()) {
          value = std::string(result[0].at("value").as_array()[1].as_string());
          break;
        }
      }
    } catch (const std::exception&) {
      // Not listening yet.
    }
    usleep(200'000);
  }
  EXPECT_EQ(value, "5") << prometheus.stderrText();
  // The rule files loaded: both groups are known to the server.
  auto rules = request(port, simpleGet("/api/v1/rules"));
  EXPECT_NE(rules.body.find("infergate-recording"), std::string::npos);
  EXPECT_NE(rules.body.find("InfergateHighErrorRatio"), std::string::npos);
  // Every dashboard query is valid PromQL to this server, with Grafana's
  // variables filled in as Grafana would.
  std::vector<std::string> exprs;
  const auto dashboard = boost::json::parse(readFile(fs::path(SOURCE_DIR) / "deploy/grafana/infergate-dashboard.json"));
  collectExprs(dashboard, exprs);
  for (auto& selector : variableSelectors(dashboard)) exprs.push_back(selector);
  for (auto e : exprs) {
    e = std::regex_replace(e, std::regex(R"(\$(job|backend)\b)"), ".*");
    e = std::regex_replace(e, std::regex(R"(\$__rate_interval)"), "1m");
    auto r = request(port, simpleGet("/api/v1/query?query=" + urlEncode(e)));
    EXPECT_EQ(r.status, 200) << e << "\n" << r.body;
    EXPECT_NE(r.body.find(R"("status":"success")"), std::string::npos) << e << "\n" << r.body;
  }
  prometheus.signal(SIGTERM);
  prometheus.wait(std::chrono::seconds(10));
  fs::remove_all(dir);
}
