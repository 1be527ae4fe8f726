#pragma once
// A child process for integration tests: started with a command line, its
// stdout read line by line (to learn its ports), its stderr kept in a file the
// test can read, and always stopped when the test ends.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace testsupport {

class Process {
 public:
  Process(std::vector<std::string> argv, std::vector<std::string> extraEnv = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Next stdout line containing `needle`, or nullopt after `timeout`.
  std::optional<std::string> waitForLine(const std::string& needle,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void signal(int sig);
  // Exit status once the process ends (or nullopt if it is still running after `timeout`).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string stderrText() const;
  // Every stdout line read so far by waitForLine, for failure messages.
  const std::string& transcript() const { return transcript_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdoutFd_ = -1;
  std::string stdoutBuffer_;
  std::string transcript_;
  std::string stderrPath_;
  std::optional<int> status_;
};

}  // namespace testsupport
