#include "support/fixtures.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/http_client.hpp"

namespace testsupport {

std::string gatewayBinary() { return INFERGATE_BIN; }
std::string mockBinary() { return MOCK_BIN; }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void rewriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string replacedOnce(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not in the text: " + from);
  return text.replace(at, from.size(), to);
}

std::string writeTempFile(const std::string& text, const std::string& suffix) {
  std::string path = "/tmp/infergate-test-XXXXXX" + suffix;
  std::vector<char> buf(path.begin(), path.end());
  buf.push_back('\0');
  int fd = mkstemps(buf.data(), static_cast<int>(suffix.size()));
  if (fd < 0) throw std::runtime_error("mkstemps failed");
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) throw std::runtime_error("write");
  close(fd);
  return buf.data();
}

std::string unusedTempPath(const std::string& suffix) {
  auto path = writeTempFile("", suffix);  // reserves a unique name...
  unlink(path.c_str());                    // ...that the gateway then creates
  return path;
}

MockServer::MockServer(std::vector<std::string> args, std::uint16_t port) {
  std::vector<std::string> argv{mockBinary(), "--listen", "127.0.0.1:" + std::to_string(port), "--record"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<Process>(argv);
  auto line = process_->waitForLine("listening on");
  if (!line) throw std::runtime_error("mock server did not start: " + process_->stderrText());
  std::smatch m;
  std::regex re(R"(listening on [0-9.]+:(\d+))");
  if (!std::regex_search(*line, m, re)) throw std::runtime_error("unexpected mock line: " + *line);
  port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  plainPort_ = port_;
  std::smatch plain;
  if (std::regex_search(*line, plain, std::regex(R"(plain [0-9.]+:(\d+))")))
    plainPort_ = static_cast<std::uint16_t>(std::stoi(plain[1]));
}

boost::json::object MockServer::stats() {
  auto r = request(plainPort_, simpleGet("/debug/stats"));
  if (r.status != 200) throw std::runtime_error("mock stats failed");
  return boost::json::parse(r.body).as_object();
}

void MockServer::reset() {
  auto r = request(plainPort_, jsonPost("/debug/reset", "{}"));
  if (r.status != 200) throw std::runtime_error("mock reset failed");
}

std::string standardConfig(std::uint16_t mockPort, const ConfigKnobs& k) {
  std::string y;
  y += "server:\n  listen: 127.0.0.1:0\n  workers: " + std::to_string(k.workers) + "\n";
  y += "  drain_timeout: " + k.drain + "\n";
  y += k.serverExtra;
  y += "  limits:\n    max_body: " + k.maxBody + "\n    max_header: " + k.maxHeader + "\n" + k.limitsExtra;
  y += "  timeouts:\n    header_read: " + k.headerRead + "\n    body_read: " + k.bodyRead +
       "\n    keepalive_idle: " + k.keepaliveIdle + "\n";
  y += "admin:\n  listen: 127.0.0.1:0\n";
  y += k.topLevel;
  y += "backends:\n  - name: mock\n    endpoints:\n      - url: http://127.0.0.1:" + std::to_string(mockPort) + "\n";
  for (auto p : k.extraEndpointPorts) y += "      - url: http://127.0.0.1:" + std::to_string(p) + "\n";
  if (!k.backendHeaders.empty()) y += "    headers:\n" + k.backendHeaders;
  y += k.backendExtra;
  y += "    timeouts:\n      connect: " + k.connect + "\n      first_token: " + k.firstToken +
       "\n      idle: " + k.idle + "\n      total: " + k.total + "\n";
  y += "    pool:\n      max_idle: 16\n      idle_ttl: " + k.poolIdleTtl + "\n";
  if (!k.routes.empty()) {
    y += k.routes;  // may start with further backend list items, then "routes:"
  } else {
    y += "routes:\n";
    y += "  - name: chat\n    path_prefix: /v1/\n    models: [\"mock-*\"]\n    backend: mock\n";
    y += "  - name: models\n    path_prefix: /v1/models\n    backend: mock\n";
  }
  return y;
}

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() { ::close(fd_); }

std::string scrape(std::uint16_t adminPort) {
  auto r = request(adminPort, simpleGet("/metrics"));
  if (r.status != 200) throw std::runtime_error("scrape failed: " + std::to_string(r.status));
  return r.body;
}

std::string scrapeAfter(std::uint16_t adminPort, double requests) {
  std::string text;
  for (int attempt = 0; attempt < 500; ++attempt) {
    text = scrape(adminPort);
    double total = 0;
    for (std::size_t pos = text.find("\ninfergate_requests_total{"); pos != std::string::npos;
         pos = text.find("\ninfergate_requests_total{", pos + 1)) {
      const auto end = text.find('\n', pos + 1);
      const auto space = text.rfind(' ', end);
      total += std::stod(text.substr(space + 1, end - space - 1));
    }
    if (total >= requests) return text;
    usleep(10'000);
  }
  return text;
}

double seriesValue(const std::string& exposition, const std::string& series) {
  const std::string needle = series + " ";
  for (std::size_t pos = exposition.find(needle); pos != std::string::npos; pos = exposition.find(needle, pos + 1)) {
    if (pos != 0 && exposition[pos - 1] != '\n') continue;
    const auto end = exposition.find('\n', pos);
    return std::stod(exposition.substr(pos + needle.size(), end - pos - needle.size()));
  }
  return -1;
}

Gateway::Gateway(const std::string& yaml, std::vector<std::string> env, std::vector<std::string> launcher) {
  configPath_ = writeTempFile(yaml);
  auto argv = std::move(launcher);
  for (auto arg : {gatewayBinary(), std::string("--config"), configPath_}) argv.push_back(arg);
  process_ = std::make_unique<Process>(std::move(argv), env);
  auto line = process_->waitForLine("listening on");
  if (!line) throw std::runtime_error("gateway did not start: " + process_->stderrText());
  std::smatch m;
  std::regex re(R"(listening on [0-9.]+:(\d+) admin [0-9.]+:(\d+))");
  if (!std::regex_search(*line, m, re)) throw std::runtime_error("unexpected gateway line: " + *line);
  port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  adminPort_ = static_cast<std::uint16_t>(std::stoi(m[2]));
}

Gateway::~Gateway() {
  process_.reset();
  unlink(configPath_.c_str());
}

}  // namespace testsupport
