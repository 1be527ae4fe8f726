#pragma once
// Real processes for integration tests: the mock model server and infergate,
// each on an ephemeral loopback port learnt from its startup line.
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace testsupport {

class MockServer {
 public:
  // With --tls-cert/--tls-key in `args`, port() is its HTTPS port; stats and
  // resets still go to its plain listener.
  explicit MockServer(std::vector<std::string> args = {}, std::uint16_t port = 0);
  std::uint16_t port() const { return port_; }
  boost::json::object stats();
  void reset();
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t plainPort_ = 0;  // the debug endpoints' port (port_ unless HTTPS)
};

struct ConfigKnobs {
  unsigned workers = 1;
  std::string maxBody = "1MiB";
  std::string maxHeader = "8KiB";
  std::string headerRead = "2s";
  std::string bodyRead = "2s";
  std::string keepaliveIdle = "5s";
  std::string connect = "1s";
  std::string firstToken = "2s";
  std::string idle = "2s";
  std::string total = "10s";
  std::string poolIdleTtl = "30s";
  std::string drain = "5s";
  std::vector<std::uint16_t> extraEndpointPorts;  // more endpoints of the same backend
  std::string backendHeaders;                     // YAML lines under "headers:", indented 6
  std::string routes;                             // replaces the default routes when set
  std::string backendExtra;                       // YAML lines for the backend, indented 4
  std::string topLevel;                           // extra top-level sections (metrics:, access_log:)
  std::string serverExtra;                        // YAML lines under "server:", indented 2
  std::string limitsExtra;                        // YAML lines under "server.limits:", indented 4
};

// A complete config: backend "mock" at the given port, route "chat" for
// /v1/ with models mock-* and "models" for /v1/models, plus whatever knobs say.
std::string standardConfig(std::uint16_t mockPort, const ConfigKnobs& knobs = {});

class Gateway {
 public:
  // `launcher`: a command the gateway runs under (e.g. {"prlimit", "--nofile=48:48", "--"}).
  explicit Gateway(const std::string& yaml, std::vector<std::string> env = {},
                   std::vector<std::string> launcher = {});
  ~Gateway();
  std::uint16_t port() const { return port_; }
  std::uint16_t adminPort() const { return adminPort_; }
  Process& process() { return *process_; }
  const std::string& configPath() const { return configPath_; }

 private:
  std::string configPath_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t adminPort_ = 0;
};

// GET /metrics from the admin listener.
std::string scrape(std::uint16_t adminPort);
// A scrape taken once the gateway has recorded at least `requests` requests in
// total: a request is recorded just after its last byte leaves, so a client can
// read its answer a moment before (polls for up to 5 s).
std::string scrapeAfter(std::uint16_t adminPort, double requests);
// The value of one series, written exactly as exposed ("name{a=\"x\"}"), or -1 if absent.
double seriesValue(const std::string& exposition, const std::string& series);

// A loopback port held by a bound, non-listening socket: connecting to it is
// refused, and no other process can take it while this object lives.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string writeTempFile(const std::string& text, const std::string& suffix = ".yaml");
// A file's whole text (empty when it cannot be read).
std::string readFile(const std::string& path);
// Replaces a file's whole text (a config the test reloads).
void rewriteFile(const std::string& path, const std::string& text);
// `text` with its first `from` replaced by `to`; throws when `from` is not in it.
std::string replacedOnce(std::string text, const std::string& from, const std::string& to);
// A fresh /tmp path where no file exists yet, for a file the gateway must create.
std::string unusedTempPath(const std::string& suffix);
std::string gatewayBinary();
std::string mockBinary();

}  // namespace testsupport
