#pragma once
// The CPUs the gateway's workers can use: the process's affinity (taskset, a
// cpuset) and its cgroup's CPU quota (a container's CPU limit). It sizes
// `server.workers: 0` and decides whether workers may busy-poll: a polling
// worker spins on its CPU, so with more workers than CPUs its spin is another
// worker's wait, and under a quota the spins spend the time the quota meters.
#include <filesystem>
#include <string_view>

namespace infergate {

struct CpuAllowance {
  unsigned affinity = 0;  // CPUs in the affinity mask (0: unknown)
  double quota = 0;       // CPUs' worth of time per period the cgroup may use (0: no quota)

  // Workers for `server.workers: 0`: one per CPU the process may run on at
  // once, the quota rounded up (0: unknown).
  unsigned workers() const;
  // Whether `n` workers may busy-poll: each needs a CPU of its own, and
  // under a quota the time of n CPUs: workers spinning past it would get the
  // whole process stopped until the quota's next period (CFS throttling). A
  // CPU's worth more was asked at first; one worker under a 1-CPU quota,
  // polling, was never throttled (8 clients, 2 runs) and answered faster
  // (p99 281-317 us against 368-576 without polling).
  bool mayPoll(unsigned n) const;
};

// CPUs in the calling thread's affinity mask (threads made after inherit it).
unsigned affinityCpus();

// The CPU quota of the cgroup named by `procSelfCgroup` (the text of
// /proc/self/cgroup) under `cgroupRoot` (/sys/fs/cgroup), and of its
// ancestors: the smallest, in CPUs (1.5: 150 ms per 100 ms); 0 when none is
// set. cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us / cpu.cfs_period_us).
double quotaCpus(std::string_view procSelfCgroup, const std::filesystem::path& cgroupRoot);

// Both of the above for this process.
CpuAllowance cpuAllowance();

}  // namespace infergate
