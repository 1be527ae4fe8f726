#include "gateway/net/worker_wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>

namespace infergate {

namespace {
int makeEventFd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw boost::system::system_error(errno, boost::system::system_category(), "eventfd");
  return fd;
}
}  // namespace

WorkerWakeup::WorkerWakeup(boost::asio::io_context& io) : fd_(io, makeEventFd()) {}

void WorkerWakeup::raise(unsigned bits) {
  pending_.fetch_or(bits, std::memory_order_release);
  const std::uint64_t one = 1;
  // A raw write, not an Asio operation: it is the one thing another thread may
  // do to this worker. Failure is only possible if the counter would overflow,
  // in which case the worker has a wake-up pending anyway.
  [[maybe_unused]] const auto n = ::write(fd_.native_handle(), &one, sizeof one);
}

void WorkerWakeup::listen(std::function<void(unsigned)> handler) {
  handler_ = std::move(handler);
  read();
}

void WorkerWakeup::read() {
  fd_.async_read_some(boost::asio::buffer(&counter_, sizeof counter_),
                      [this](boost::system::error_code ec, std::size_t) {
                        if (ec == boost::asio::error::operation_aborted) return;
                        const unsigned bits = pending_.exchange(0, std::memory_order_acquire);
                        if (bits != 0) handler_(bits);
                        if (!ec || ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) read();
                      });
}

}  // namespace infergate
