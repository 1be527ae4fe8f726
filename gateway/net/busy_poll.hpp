#pragma once
// When a worker with nothing to do polls instead of sleeping.
//
// Why poll at all: a sleeping worker is woken by the peer whose bytes arrive
// next, and that wake-up is paid on the peer's core: on this VM an IPI, a
// hypervisor exit. A fast worker runs out of work often, so the faster the
// proxy, the more wake-ups its peers pay. Measured with 8 clients (perf stat):
// without polling the worker slept 0.11 times per request and the load
// generator's core sent 0.22 IPIs per request (haproxy: 0.03), and throughput
// was 5% under haproxy's; with a 50 us budget, level with it.
//
// Why only while it pays: a poll pays when the next event comes within the
// budget. The policy keeps a running share of the waits that would have been
// (or were) that short, and polls while it is at least half: polls that found
// work and sleeps shorter than the budget count for, polls that found nothing
// and longer sleeps against. Requests that follow each other closely (small
// chat, a keep-alive client per connection) keep it polling; an idle worker,
// or one whose events come rarely or in bursts far apart, sleeps at once.
// 8,000 streams on one worker are neither: their events come 5-50 us apart,
// so polls find work and it keeps polling, at 3.8-4.5 CPU s against 2.8-2.9
// without (the price of the wake-ups it saves; see below).
//
// Why a poll found within the budget counts, however long it spun: counting
// only polls that found work sooner than a wake-up costs (10 us) cut the CPU
// of 8,000 streams on one worker from 3.9-4.5 to 2.9-3.9 s, but the streams'
// opening, which takes the core to its limit, paid for the wake-ups in
// capacity: its first tokens' p99 over 200 ms in 4 runs of 10 (the rule
// kept: 1 of 10). Polling is for latency; `busy_poll_us: 0` is for CPU.
//
// A worker that shares its CPU with another worker never polls, nor do
// workers under a CPU quota of less than a CPU each (Server decides,
// from cpu_allowance.hpp): a spin would be another's wait, or spend the quota.
#include <chrono>
#include <cstdint>

namespace infergate {

class BusyPollPolicy {
 public:
  explicit BusyPollPolicy(std::chrono::microseconds budget) : budget_(budget) {}

  std::chrono::microseconds budget() const { return budget_; }
  // Whether to poll for budget() before the next sleep.
  bool pollBeforeSleep() const { return budget_.count() > 0 && share_ >= kScale / 2; }
  // A poll ended: whether it found work.
  void polled(bool found) { learn(found); }
  // How long a sleep lasted; `afterPoll`: it followed a poll that found
  // nothing (already counted: the event came later than the budget).
  void slept(std::chrono::nanoseconds duration, bool afterPoll = false) {
    if (!afterPoll) learn(duration < budget_);
  }

 private:
  static constexpr std::uint32_t kScale = 1024;
  // Each wait moves the share an eighth of the way to its outcome.
  void learn(bool shortWait) { share_ = share_ - share_ / 8 + (shortWait ? kScale / 8 : 0); }

  std::chrono::microseconds budget_;
  std::uint32_t share_ = 0;  // of kScale: waits that ended within the budget, lately
};

}  // namespace infergate
