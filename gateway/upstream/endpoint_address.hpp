#pragma once
// Where an endpoint is now. An endpoint named by host is resolved again while
// the gateway runs (EndpointResolver, on the control thread); workers read
// the address only to open a new connection, and compare the generation to
// drop pooled connections made to an address the name no longer has.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <mutex>

namespace infergate {

class EndpointAddress {
 public:
  explicit EndpointAddress(boost::asio::ip::tcp::endpoint initial) : address_(initial) {}
  // Any thread: the address to connect to now (a lock held per new connection, never per request).
  boost::asio::ip::tcp::endpoint current() const {
    std::lock_guard lock(mutex_);
    return address_;
  }
  // Any thread: changes each time the address does.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The control thread: a new address; connections made before are not reused.
  void replace(const boost::asio::ip::tcp::endpoint& next) {
    {
      std::lock_guard lock(mutex_);
      address_ = next;
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }

 private:
  mutable std::mutex mutex_;
  boost::asio::ip::tcp::endpoint address_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace infergate
