// A rotating output file (the sample sink, the access log): rotation by size
// keeps `keep` older files and drops the oldest; a path that cannot be
// written reports failure instead of throwing; reopen() follows a file that
// logrotate renamed.
#include "filters/core/rotating_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace infergate {
namespace {

std::vector<std::string> linesOf(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class RotatingFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "infergate-sink-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RotatingFileTest, RotatesBySizeKeepingTheNewestFiles) {
  const auto path = dir_ + "/samples.jsonl";
  {
    RotatingFile sink("test file", path, 100, 2);
    // Lines of 23 bytes with the newline: four fit in 100 bytes, the fifth rotates.
    for (int i = 0; i < 14; ++i) {
      char line[32];
      std::snprintf(line, sizeof line, "{\"n\":%02d,\"pad\":\"xxxxx\"}", i);
      ASSERT_EQ(std::string(line).size(), 22u);
      ASSERT_TRUE(sink.writeLine(line));
    }
  }
  // 14 lines: files of 4, 4, 4, 2; the first four were dropped with keep = 2.
  const auto current = linesOf(path), older = linesOf(path + ".1"), oldest = linesOf(path + ".2");
  ASSERT_EQ(current.size(), 2u);
  ASSERT_EQ(older.size(), 4u);
  ASSERT_EQ(oldest.size(), 4u);
  EXPECT_EQ(oldest.front(), "{\"n\":04,\"pad\":\"xxxxx\"}");
  EXPECT_EQ(older.front(), "{\"n\":08,\"pad\":\"xxxxx\"}");
  EXPECT_EQ(current.back(), "{\"n\":13,\"pad\":\"xxxxx\"}");
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  for (const auto& f : {path, path + ".1", path + ".2"}) EXPECT_LE(std::filesystem::file_size(f), 100u) << f;
}

TEST_F(RotatingFileTest, AppendsToAnExistingFileAndCountsItsSize) {
  const auto path = dir_ + "/samples.jsonl";
  std::ofstream(path) << std::string(95, 'x') << "\n";  // 96 bytes from an earlier run
  {
    RotatingFile sink("test file", path, 100, 1);
    ASSERT_TRUE(sink.writeLine("{\"n\":1}"));  // 8 more bytes would pass 100: rotate first
  }
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"n\":1}"});
  EXPECT_EQ(linesOf(path + ".1").front().size(), 95u);
}

TEST_F(RotatingFileTest, AnUnwritablePathFailsEachWriteAndRecoversWhenItAppears) {
  const auto path = dir_ + "/later/samples.jsonl";
  RotatingFile sink("test file", path, 1000, 1);
  EXPECT_FALSE(sink.writeLine("{\"n\":1}"));
  std::filesystem::create_directories(dir_ + "/later");
  EXPECT_TRUE(sink.writeLine("{\"n\":2}"));
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"n\":2}"});
}

TEST_F(RotatingFileTest, ABatchOfLinesRotatesBetweenLinesWithinTheLimit) {
  const auto path = dir_ + "/access.log";
  {
    RotatingFile file("test file", path, 50, 1);
    ASSERT_TRUE(file.writeLines("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"));  // 24 bytes
    // 32 more would pass 50: three lines fill this file to 48, the fourth starts the next.
    ASSERT_TRUE(file.writeLines("{\"b\":1}\n{\"b\":2}\n{\"b\":3}\n{\"b\":4}\n"));
  }
  EXPECT_EQ(linesOf(path + ".1").size(), 6u);
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"b\":4}"});
  EXPECT_LE(std::filesystem::file_size(path + ".1"), 50u);
}

TEST_F(RotatingFileTest, ReopenFollowsAFileLogrotateRenamed) {
  const auto path = dir_ + "/access.log";
  RotatingFile file("test file", path, 0, 0);
  ASSERT_TRUE(file.writeLine("{\"n\":1}"));
  std::filesystem::rename(path, path + ".rotated");
  ASSERT_TRUE(file.writeLine("{\"n\":2}"));  // still the renamed file, until told
  file.reopen();
  ASSERT_TRUE(file.writeLine("{\"n\":3}"));
  EXPECT_EQ(linesOf(path + ".rotated"), (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}"}));
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"n\":3}"});
}

TEST_F(RotatingFileTest, ZeroMaxBytesNeverRotates) {
  const auto path = dir_ + "/access.log";
  RotatingFile file("test file", path, 0, 2);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(file.writeLine(std::string(100, 'x')));
  EXPECT_EQ(linesOf(path).size(), 100u);
  EXPECT_FALSE(std::filesystem::exists(path + ".1"));
}

}  // namespace
}  // namespace infergate
