#pragma once
// A raw loopback HTTP upstream for framing cases the mock does not produce:
// each request (head plus Content-Length body) is answered with exactly the
// bytes a script returns, in one write (and an optional later one), optionally
// followed at once by close().
// Runs on its own thread; stops when destroyed.
#include <atomic>
#include <cstdint>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace testsupport {

class ScriptedUpstream {
 public:
  struct Reply {
    std::string bytes;
    bool close = false;  // close right after the write: the data and the FIN leave together
    // Written `tailAfter` after `bytes` (and before the close, if any): the
    // last events of a stream, once the gateway waits for them.
    std::string tail = {};
    std::chrono::milliseconds tailAfter{0};
  };
  using Script = std::function<Reply(const std::string& request)>;

  explicit ScriptedUpstream(Script script);
  ~ScriptedUpstream();
  std::uint16_t port() const { return port_; }
  unsigned connections() const { return connections_.load(); }
  unsigned requests() const { return requests_.load(); }

 private:
  void serve();
  void serveConnection(int fd);

  Script script_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> connections_{0};
  std::atomic<unsigned> requests_{0};
  std::thread thread_;
};

// What scripts answer with: a whole chat completion (JSON), and `data` framed
// as one chunk of a chunked body.
extern const std::string kScriptedChatAnswer;
std::string chunk(const std::string& data);

}  // namespace testsupport
