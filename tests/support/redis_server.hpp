#pragma once
// A real redis-server for integration tests: its own process on a loopback
// port, no persistence, stopped (or killed, paused, restarted on the same
// port) when a test says and always when it ends. command() talks to it with
// hiredis's blocking client, to look at what the gateway wrote.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace testsupport {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void kill();     // SIGKILL: connections drop, everything in it is lost
  void start();    // again, on the same port
  void pause();    // SIGSTOP: connections stay, nothing is answered
  void resume();   // SIGCONT

  // One command's reply as text: a string, status or error as is, an integer
  // in decimal, an array's elements one per line, "(nil)" for nil.
  std::string command(const std::vector<std::string>& args) const;

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace testsupport
