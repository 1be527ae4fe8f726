#pragma once
// I/O object types bound to a worker's io_context executor. The default Asio
// types carry a type-erased any_io_executor, which costs an indirect call and
// a target-type check on every operation; everything a worker owns runs on
// one known io_context, so its sockets and timers name that executor directly.
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>

#include "gateway/net/tls_stream.hpp"

namespace infergate {

using WorkerExecutor = boost::asio::io_context::executor_type;
using WorkerSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, WorkerExecutor>;
using WorkerAcceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, WorkerExecutor>;
using WorkerTimer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                      boost::asio::wait_traits<std::chrono::steady_clock>, WorkerExecutor>;
// TLS over a client connection the session owns (the HTTPS listener).
using ClientTlsStream = TlsStream<WorkerSocket&>;

}  // namespace infergate
