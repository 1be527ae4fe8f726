#pragma once
// The upstream exchange's I/O, behind an interface so that the exchange can
// be driven without sockets (tests give a transport that records what it is
// asked and completes it by hand). Each operation completes by calling the
// matching UpstreamExchange::on* method with the epoch it was started in.
// The production transport, on the worker's Asio sockets, is
// AsioExchangeTransport (exchange_io.cpp).
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>

#include "filters/core/errors.hpp"
#include "gateway/upstream/upstream_pool.hpp"

namespace infergate {

class ExchangeTransport {
 public:
  virtual ~ExchangeTransport() = default;
  // → onConnected(epoch, ec); for TLS, onTcpConnected(epoch) between the
  // TCP connect and the handshake (conn.tcpConnected set).
  virtual void connect(UpstreamConnection& conn, const boost::asio::ip::tcp::endpoint& to, unsigned epoch) = 0;
  // → onRequestSent(epoch, ec). The bytes `parts` point to stay valid until
  // then; the descriptors only during the call (a transport that waits to
  // write keeps its own copy of them).
  virtual void send(UpstreamConnection& conn, std::span<const boost::asio::const_buffer> parts, unsigned epoch) = 0;
  // How long a read is expected to wait.
  enum class ReadWait : std::uint8_t {
    First,  // the answer's first bytes: the connection is usually drained
    More,   // the rest of a message whose bytes are coming
    Idle,   // nothing pending (between a stream's events): may wait for seconds
  };
  // Reads into conn.buffer (prepare, then the completion commits) → onUpstreamRead(epoch, ec, bytes).
  // For an Idle wait the buffer is prepared only when bytes are there.
  virtual void read(UpstreamConnection& conn, ReadWait wait, unsigned epoch) = 0;
  // → onDownstreamWritten(epoch, last, ec); `parts` as for send.
  virtual void writeClient(std::span<const boost::asio::const_buffer> parts, bool last, unsigned epoch) = 0;
  // The in-band SSE error event of a failed stream → onStreamErrorWritten(epoch, cause, ec).
  virtual void writeClientError(std::span<const boost::asio::const_buffer> parts, FailureCause cause,
                                unsigned epoch) = 0;
  // Makes the pending client write complete with an error.
  virtual void cancelClient() = 0;
  // Closes the upstream connection: its pending operation completes with an error.
  virtual void close(UpstreamConnection& conn) = 0;
  // The exchange lets `conn` go (to the pool, or destroyed): the transport
  // keeps no reference to it. A read still pending on it completes with an
  // error, as it would when the socket goes.
  virtual void forget(UpstreamConnection& /*conn*/) {}
};

}  // namespace infergate
