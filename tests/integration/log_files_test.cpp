// The files the gateway writes as a user's log tooling expects: the access log
// rotates by size (a load test must not fill the disk), and SIGUSR1 opens the
// access log and the sample sink again after logrotate renamed them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"

using namespace testsupport;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> linesOf(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Waits until `path` holds at least `n` lines (the writers batch every few ms).
bool waitForLines(const std::string& path, std::size_t n) {
  for (int i = 0; i < 200; ++i) {
    if (linesOf(path).size() >= n) return true;
    usleep(20'000);
  }
  return false;
}

}  // namespace

TEST(LogFiles, TheAccessLogRotatesBySizeKeepingTheNewestFiles) {
  MockServer mock;
  const auto dir = fs::path(unusedTempPath(""));
  fs::create_directories(dir);
  const auto path = (dir / "access.log").string();
  ConfigKnobs k;
  k.topLevel = "access_log:\n  enabled: true\n  path: " + path + "\n  max_bytes: 4KiB\n  keep: 2\n";
  Gateway gw(standardConfig(mock.port(), k));
  // About 400 bytes a line: 80 lines are over 30 KiB, far more than three 4 KiB files hold.
  for (int i = 0; i < 80; ++i)
    ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  ASSERT_TRUE(waitForLines(path + ".2", 1));
  usleep(100'000);  // the last batch
  EXPECT_FALSE(fs::exists(path + ".3"));
  std::size_t lines = 0;
  for (const auto& f : {path, path + ".1", path + ".2"}) {
    EXPECT_LE(fs::file_size(f), 4096u) << f;
    for (const auto& line : linesOf(f)) {
      EXPECT_TRUE(boost::json::parse(line).is_object()) << line;
      ++lines;
    }
  }
  EXPECT_GT(lines, 10u);
  EXPECT_LT(lines, 80u);  // the oldest were dropped
  fs::remove_all(dir);
}

TEST(LogFiles, SigusrOneReopensTheAccessLogAndTheSampleSink) {
  MockServer mock;
  const auto dir = fs::path(unusedTempPath(""));
  fs::create_directories(dir);
  const auto log = (dir / "access.log").string(), samples = (dir / "samples.jsonl").string();
  ConfigKnobs k;
  k.topLevel = "access_log:\n  enabled: true\n  path: " + log + "\n  max_bytes: 0\n" +
               "sampling:\n  rate: 1\n  sink:\n    path: " + samples + "\n";
  Gateway gw(standardConfig(mock.port(), k));
  ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  ASSERT_TRUE(waitForLines(log, 1));
  ASSERT_TRUE(waitForLines(samples, 1));
  // logrotate's create mode: rename, then signal.
  fs::rename(log, log + ".1");
  fs::rename(samples, samples + ".1");
  gw.process().signal(SIGUSR1);
  for (int i = 0; i < 100 && gw.process().stderrText().find("SIGUSR1: reopening") == std::string::npos; ++i)
    usleep(20'000);
  ASSERT_NE(gw.process().stderrText().find("SIGUSR1: reopening the access log and the sample sink"), std::string::npos);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(request(gw.port(), jsonPost("/v1/chat/completions", chatBody("mock-model"))).status, 200);
  EXPECT_TRUE(waitForLines(log, 2)) << gw.process().stderrText();
  EXPECT_TRUE(waitForLines(samples, 2)) << gw.process().stderrText();
  EXPECT_EQ(linesOf(log + ".1").size(), 1u);
  EXPECT_EQ(linesOf(samples + ".1").size(), 1u);
  EXPECT_TRUE(gw.process().running());
  fs::remove_all(dir);
}
