#include "gateway/server/cpu_allowance.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <fstream>

using infergate::quotaCpus;
namespace fs = std::filesystem;

namespace {

// A cgroup tree in a temporary directory, written file by file.
class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("infergate-cgroup-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& relative, const std::string& text) {
    const auto file = root_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  fs::path root_;
};

}  // namespace

TEST_F(CgroupTree, V2QuotaInCpus) {
  write("kubepods/pod1/cpu.max", "150000 100000\n");
  EXPECT_DOUBLE_EQ(quotaCpus("0::/kubepods/pod1\n", root_), 1.5);
  write("kubepods/pod1/cpu.max", "100000 100000\n");
  EXPECT_DOUBLE_EQ(quotaCpus("0::/kubepods/pod1\n", root_), 1.0);
}

TEST_F(CgroupTree, V2WithoutAQuotaIsNoLimit) {
  write("user.slice/cpu.max", "max 100000\n");
  EXPECT_EQ(quotaCpus("0::/user.slice\n", root_), 0.0);
  EXPECT_EQ(quotaCpus("0::/nowhere\n", root_), 0.0);  // no file at all
}

// A child cannot use more than its parent: the smallest quota on the way up.
TEST_F(CgroupTree, AnAncestorsSmallerQuotaLimits) {
  write("kubepods/cpu.max", "100000 100000\n");
  write("kubepods/pod1/cpu.max", "max 100000\n");
  write("kubepods/pod1/app/cpu.max", "400000 100000\n");
  EXPECT_DOUBLE_EQ(quotaCpus("0::/kubepods/pod1/app\n", root_), 1.0);
}

TEST_F(CgroupTree, V1CpuControllerQuota) {
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_DOUBLE_EQ(quotaCpus("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n", root_), 2.5);
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(quotaCpus("4:cpu,cpuacct:/docker/abc\n", root_), 0.0);
}

// A hybrid host lists both; the v1 CPU controller is the one in force.
TEST_F(CgroupTree, OnAHybridHostTheV1ControllerDecides) {
  write("cpu/cpu.cfs_quota_us", "100000\n");
  write("cpu/cpu.cfs_period_us", "100000\n");
  write("cpu.max", "400000 100000\n");
  EXPECT_DOUBLE_EQ(quotaCpus("1:cpu:/\n0::/\n", root_), 1.0);
}

TEST(CpuAllowance, AffinityCountsTheCallingThreadsCpus) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(infergate::affinityCpus(), static_cast<unsigned>(CPU_COUNT(&saved)));
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(infergate::affinityCpus(), 1u);
  EXPECT_EQ(infergate::cpuAllowance().affinity, 1u);
  sched_setaffinity(0, sizeof(saved), &saved);
}

using infergate::CpuAllowance;

// `workers: 0`: one worker per CPU it may run on at once; a fractional quota
// rounds up (1.5 CPUs of time can keep two threads running part of the time).
TEST(CpuAllowance, WorkersFollowTheAffinityAndTheQuotaRoundedUp) {
  EXPECT_EQ((CpuAllowance{8, 0}.workers()), 8u);
  EXPECT_EQ((CpuAllowance{8, 1.5}.workers()), 2u);
  EXPECT_EQ((CpuAllowance{8, 2}.workers()), 2u);
  EXPECT_EQ((CpuAllowance{1, 4}.workers()), 1u);
  EXPECT_EQ((CpuAllowance{0, 3}.workers()), 3u);
}

// Polling needs a CPU per worker, and under a quota a CPU's time per worker:
// two workers spinning under a 1.5-CPU quota would use it up.
TEST(CpuAllowance, PollingNeedsACpuPerWorkerAndItsTimeInTheQuota) {
  EXPECT_TRUE((CpuAllowance{2, 0}.mayPoll(2)));
  EXPECT_FALSE((CpuAllowance{1, 0}.mayPoll(2)));
  EXPECT_TRUE((CpuAllowance{1, 0}.mayPoll(1)));
  EXPECT_TRUE((CpuAllowance{8, 2}.mayPoll(2)));
  EXPECT_FALSE((CpuAllowance{8, 1.5}.mayPoll(2)));
  EXPECT_TRUE((CpuAllowance{8, 1}.mayPoll(1)));
  EXPECT_TRUE((CpuAllowance{0, 0}.mayPoll(4)));  // nothing known: as configured
}
