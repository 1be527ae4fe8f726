#pragma once
// Lets other threads ask a worker to drain or stop without touching its
// io_context. The worker's io_context runs with every Asio lock disabled
// (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE), so post() and stop() from another
// thread would be data races; instead the caller sets a bit and writes an
// eventfd, and the worker's own read of that eventfd runs the request.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>

namespace infergate {

class WorkerWakeup {
 public:
  enum : unsigned { kDrain = 1u, kStop = 2u, kSlotGranted = 4u, kCut = 8u, kReload = 16u };

  // Creates the eventfd. Throws boost::system::system_error.
  explicit WorkerWakeup(boost::asio::io_context& io);

  // Any thread: records `bits` and wakes the worker.
  void raise(unsigned bits);
  // Worker thread (or before it starts): `handler` receives the raised bits,
  // on the worker thread, every time some are raised.
  void listen(std::function<void(unsigned)> handler);

 private:
  void read();

  std::atomic<unsigned> pending_{0};
  boost::asio::posix::stream_descriptor fd_;
  std::uint64_t counter_ = 0;
  std::function<void(unsigned)> handler_;
};

}  // namespace infergate
