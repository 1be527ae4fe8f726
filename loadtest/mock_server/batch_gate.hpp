#pragma once
// The mock's scheduler: at most `batch` model requests are answered at once,
// the rest wait their turn in arrival order, as in a model server whose batch
// (or KV cache) is full. Waiting is real: a queued request's first token comes
// after a running one finishes, so a balancer that sends work to a full server
// pays for it in time to first token. Shared by every thread of the mock.
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace mock {

class BatchGate {
 public:
  struct Load {
    long running = 0;
    long waiting = 0;
    long batch = 0;  // 0: no limit
  };

  // Starts a request: true when fewer than the batch are running (it runs
  // now), else false and `admittedLater` runs when its turn comes, on the
  // thread of the leave() or setBatch() that frees a place, so it must hand
  // itself to its own session's executor.
  bool enter(std::function<void()> admittedLater);
  // A running request ended (or an admitted one found its client gone).
  void leave();
  // Changes the batch at run time (0: no limit); a raise admits waiters at once.
  void setBatch(unsigned batch);
  Load load();

 private:
  std::mutex mutex_;
  unsigned batch_ = 0;
  long running_ = 0;
  std::deque<std::function<void()>> waiting_;
};

}  // namespace mock
