// The drift baseline file: what is written reads back the same, and every way a
// file can be unusable is refused with the path of the offending entry.
#include "filters/profile/baseline_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace infergate::profile {
namespace {

// A model baseline with `requests` requests, each feature's in one bin.
ModelBaseline uniformModel(const std::string& name, std::uint64_t requests) {
  ModelBaseline m{name, std::vector<std::uint64_t>(kFeatureCount * kMaxBins, 0)};
  for (std::size_t f = 0; f < kFeatureCount; ++f) m.counts[f * kMaxBins + 1] = requests;
  return m;
}

// A valid file for one model, with `replace` swapped in for "__SCRIPT__" (the script feature's entry).
std::string fileWithScript(const std::string& script) {
  auto text = baselineFileText({uniformModel("m", 10)}, defaultBins());
  const std::string written = "\"script\":{\"none\":0,\"latin\":10,\"cjk\":0,\"cyrillic\":0,\"arabic\":0,\"other\":0}";
  const auto at = text.find(written);
  EXPECT_NE(at, std::string::npos) << text;
  return text.replace(at, written.size(), script);
}

TEST(BaselineFile, WrittenTextReadsBackTheSameCounts) {
  auto a = uniformModel("model-a", 100);
  a.counts[static_cast<std::size_t>(Feature::Script) * kMaxBins + 2] = 7;  // some CJK
  auto b = uniformModel("name \"with\" quotes", 3);
  const auto parsed = parseBaselineFile(baselineFileText({a, b}, defaultBins()), defaultBins());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  ASSERT_EQ(parsed.models.size(), 2u);
  EXPECT_EQ(parsed.models[0].model, "model-a");
  EXPECT_EQ(parsed.models[0].counts, a.counts);
  EXPECT_EQ(parsed.models[1].model, "name \"with\" quotes");
  EXPECT_EQ(parsed.models[1].counts, b.counts);
}

TEST(BaselineFile, BinsLeftOutCountZeroAndKeyOrderDoesNotMatter) {
  std::string features;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    const auto feature = static_cast<Feature>(f);
    features += (f ? "," : "") + std::string("\"") + std::string(featureName(feature)) + "\":{\"" +
                std::string(binLabel(feature, 1)) + "\":5}";
  }
  const auto parsed = parseBaselineFile(R"({"models":{"m":{)" + features + R"(}},"version":1})", defaultBins());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.models[0].counts, uniformModel("m", 5).counts);
}

TEST(BaselineFile, CustomBinsAreTheLabelsTheFileMustUse) {
  config::ProfileConfig custom;
  custom.bins["prompt_chars"] = {100, 1000};
  const BinSpec bins(custom);
  auto m = uniformModel("m", 4);
  const auto text = baselineFileText({m}, bins);
  EXPECT_NE(text.find(R"("prompt_chars":{"<=100":0,"<=1000":4,">1000":0})"), std::string::npos) << text;
  EXPECT_TRUE(parseBaselineFile(text, bins).ok());
  // The same file against the default log2 bins: "<=100" is not one of them.
  const auto refused = parseBaselineFile(text, defaultBins());
  EXPECT_EQ(refused.error.rfind("models.m.prompt_chars.<=100: not a bin of this feature (its bins: 0, 1, 2, 4,", 0), 0u)
      << refused.error;
}

TEST(BaselineFile, UnusableFilesAreRefusedWithThePathOfTheProblem) {
  const auto valid = baselineFileText({uniformModel("m", 10)}, defaultBins());
  struct Case {
    std::string text, error;
  };
  const std::vector<Case> cases = {
      {"", "not JSON: "},
      {valid.substr(0, valid.size() / 2), "not JSON: "},
      {"[1,2]", "version: expected 1"},
      {R"({"models":{}})", "version: expected 1"},
      {R"({"version":2,"models":{}})", "version: expected 1"},
      {R"({"version":"1","models":{}})", "version: expected 1"},
      {R"({"version":1})", "models: expected an object"},
      {R"({"version":1,"models":[]})", "models: expected an object"},
      {R"({"version":1,"models":{"m":3}})", "models.m: expected an object"},
      {R"({"version":1,"models":{"m":{"prompt_chars":{"1":1}}}})", "models.m.last_user_chars: missing"},
      {R"({"version":1,"models":{"m":{"colour":{}}}})", "models.m.colour: not a feature infergate profiles"},
      {R"({"version":1,"models":{"m":{"script":[1]}}})", "models.m.script: expected an object of bin counts"},
      {fileWithScript(R"("script":{"latin":-1})"), "models.m.script.latin: expected a whole number of requests"},
      {fileWithScript(R"("script":{"latin":2.5})"), "models.m.script.latin: expected a whole number of requests"},
      {fileWithScript(R"("script":{"latin":"10"})"), "models.m.script.latin: expected a whole number of requests"},
      {fileWithScript(R"("script":{"latin":99999999999999999999999})"), "not JSON: "},
      {fileWithScript(R"("script":{"klingon":1})"), "models.m.script.klingon: not a bin of this feature"},
      {fileWithScript(R"("script":{"latin":1,"latin":2})"), "models.m.script.latin: appears twice"},
      {fileWithScript(R"("script":{"latin":0})"), "models.m.script: counts no request"},
      {fileWithScript(R"("script":{"latin":1},"script":{"latin":1})"), "models.m.script: appears twice"},
  };
  for (const auto& c : cases) {
    const auto parsed = parseBaselineFile(c.text, defaultBins());
    EXPECT_TRUE(parsed.exists);
    EXPECT_EQ(parsed.error.rfind(c.error, 0), 0u) << "file: " << c.text << "\nerror: " << parsed.error;
  }
}

TEST(BaselineFile, AMissingFileMeansLearnAndAnUnwritablePathIsReported) {
  const std::string dir = ::testing::TempDir() + "infergate-baseline-" + std::to_string(getpid());
  const auto missing = readBaselineFile(dir + "/none.json", defaultBins());
  EXPECT_FALSE(missing.exists);
  EXPECT_TRUE(missing.ok());
  // The directory does not exist: nothing can be written there.
  const auto error = writeBaselineFile(dir + "/baseline.json", {uniformModel("m", 1)}, defaultBins());
  EXPECT_EQ(error.rfind("cannot write " + dir + "/baseline.json.tmp: No such file or directory", 0), 0u) << error;

  const auto path = ::testing::TempDir() + "infergate-baseline-" + std::to_string(getpid()) + ".json";
  ASSERT_EQ(writeBaselineFile(path, {uniformModel("m", 2)}, defaultBins()), "");
  const auto read = readBaselineFile(path, defaultBins());
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_EQ(read.models[0].counts, uniformModel("m", 2).counts);
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());  // renamed into place
  unlink(path.c_str());
}

}  // namespace
}  // namespace infergate::profile
