#include "gateway/server/cpu_allowance.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace infergate {

unsigned affinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return static_cast<unsigned>(CPU_COUNT(&set));
}

namespace {

// The quota of one cgroup directory in CPUs, 0 if none.
double directoryQuota(const std::filesystem::path& dir, bool v2) {
  long long quota = -1, period = 0;
  if (v2) {
    std::ifstream file(dir / "cpu.max");
    std::string first;
    if (!(file >> first >> period) || first == "max") return 0;
    try {
      quota = std::stoll(first);
    } catch (...) {
      return 0;
    }
  } else {
    std::ifstream q(dir / "cpu.cfs_quota_us"), p(dir / "cpu.cfs_period_us");
    if (!(q >> quota) || !(p >> period)) return 0;
  }
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<double>(quota) / static_cast<double>(period);
}

// The smallest quota of the cgroup `relative` under `mount` and of its
// ancestors (a child cannot use more than its parent's), 0 if none.
double smallestQuota(const std::filesystem::path& mount, const std::filesystem::path& relative, bool v2) {
  double smallest = 0;
  auto dir = mount;
  auto consider = [&] {
    const double q = directoryQuota(dir, v2);
    if (q != 0 && (smallest == 0 || q < smallest)) smallest = q;
  };
  consider();
  for (const auto& part : relative) {
    if (part.empty()) continue;
    dir /= part;
    consider();
  }
  return smallest;
}

}  // namespace

double quotaCpus(std::string_view procSelfCgroup, const std::filesystem::path& cgroupRoot) {
  // Lines "ID:CONTROLLERS:PATH": v2's is "0::PATH"; v1's CPU controller's
  // line lists "cpu" among its controllers and is mounted under its
  // controllers' names. A hybrid host has both; the v1 controller is the one
  // that limits.
  std::istringstream lines{std::string(procSelfCgroup)};
  std::string line, v2Path;
  bool v2 = false;
  while (std::getline(lines, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    const auto relative = std::filesystem::path(line.substr(b + 1)).relative_path();
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      v2 = true;
      v2Path = relative.string();
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ','))
      if (name == "cpu") return smallestQuota(cgroupRoot / controllers, relative, false);
  }
  return v2 ? smallestQuota(cgroupRoot, v2Path, true) : 0;
}

unsigned CpuAllowance::workers() const {
  const auto metered = static_cast<unsigned>(std::ceil(quota));
  if (quota <= 0) return affinity;
  return affinity == 0 ? metered : std::min(affinity, metered);
}

bool CpuAllowance::mayPoll(unsigned n) const {
  if (affinity != 0 && n > affinity) return false;
  return quota <= 0 || n <= quota;
}

CpuAllowance cpuAllowance() {
  std::ifstream file("/proc/self/cgroup");
  std::stringstream text;
  text << file.rdbuf();
  return CpuAllowance{affinityCpus(), quotaCpus(text.str(), "/sys/fs/cgroup")};
}

}  // namespace infergate
