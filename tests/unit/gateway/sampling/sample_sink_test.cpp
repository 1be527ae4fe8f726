// The JSONL sample sink: rotation by size keeps `keep` older files and drops
// the oldest; a path that cannot be written reports failure instead of throwing.
#include "gateway/sampling/sample_sink.hpp"

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

class SampleSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "infergate-sink-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SampleSinkTest, RotatesBySizeKeepingTheNewestFiles) {
  const auto path = dir_ + "/samples.jsonl";
  {
    SampleSink sink(path, 100, 2);
    // Lines of 23 bytes with the newline: four fit in 100 bytes, the fifth rotates.
    for (int i = 0; i < 14; ++i) {
      char line[32];
      std::snprintf(line, sizeof line, "{\"n\":%02d,\"pad\":\"xxxxx\"}", i);
      ASSERT_EQ(std::string(line).size(), 22u);
      ASSERT_TRUE(sink.write(line));
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

TEST_F(SampleSinkTest, AppendsToAnExistingFileAndCountsItsSize) {
  const auto path = dir_ + "/samples.jsonl";
  std::ofstream(path) << std::string(95, 'x') << "\n";  // 96 bytes from an earlier run
  {
    SampleSink sink(path, 100, 1);
    ASSERT_TRUE(sink.write("{\"n\":1}"));  // 8 more bytes would pass 100: rotate first
  }
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"n\":1}"});
  EXPECT_EQ(linesOf(path + ".1").front().size(), 95u);
}

TEST_F(SampleSinkTest, AnUnwritablePathFailsEachWriteAndRecoversWhenItAppears) {
  const auto path = dir_ + "/later/samples.jsonl";
  SampleSink sink(path, 1000, 1);
  EXPECT_FALSE(sink.write("{\"n\":1}"));
  std::filesystem::create_directories(dir_ + "/later");
  EXPECT_TRUE(sink.write("{\"n\":2}"));
  EXPECT_EQ(linesOf(path), std::vector<std::string>{"{\"n\":2}"});
}

}  // namespace
}  // namespace infergate
