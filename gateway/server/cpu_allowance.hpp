#pragma once
// How many CPUs the gateway's workers can run on at once: the process's
// affinity (taskset, a cpuset) and its cgroup's CPU quota (a container's CPU
// limit). A worker that busy-polls spins on its CPU; with more workers than
// CPUs its spin is another worker's wait, and under a quota it spends the
// quota the others need.
#include <filesystem>
#include <string_view>

namespace infergate {

// CPUs in the calling thread's affinity mask (threads made after inherit it).
unsigned affinityCpus();

// The CPU quota of the cgroup named by `procSelfCgroup` (the text of
// /proc/self/cgroup) under `cgroupRoot` (/sys/fs/cgroup), and of its
// ancestors: the smallest, in whole CPUs rounded up; 0 when none is set.
// cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us / cpu.cfs_period_us).
unsigned quotaCpus(std::string_view procSelfCgroup, const std::filesystem::path& cgroupRoot);

// Both of the above for this process (0 from the quota: no limit).
unsigned usableCpus();

}  // namespace infergate
