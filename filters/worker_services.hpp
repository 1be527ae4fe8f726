#pragma once
// What a feature keeps per worker thread, such as a connection to a shared
// rate-limit store: made on the worker's own thread when it starts (so it may
// bind to the worker's io_context and be used without a lock) and destroyed
// by the worker before its io_context.
#include <functional>
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace infergate {

class WorkerService {
 public:
  virtual ~WorkerService() = default;
};

class WorkerServices {
 public:
  using Factory = std::function<std::unique_ptr<WorkerService>(unsigned worker, boost::asio::io_context& io)>;

  // At config resolution, before any worker starts.
  void add(Factory factory) { factories_.push_back(std::move(factory)); }
  // On worker `worker`'s thread, as it starts.
  std::vector<std::unique_ptr<WorkerService>> start(unsigned worker, boost::asio::io_context& io) const {
    std::vector<std::unique_ptr<WorkerService>> out;
    for (const auto& f : factories_)
      if (auto s = f(worker, io)) out.push_back(std::move(s));
    return out;
  }

 private:
  std::vector<Factory> factories_;
};

}  // namespace infergate
