#pragma once
// TLS over a worker's socket, with OpenSSL reading and writing the socket
// itself. Asio's ssl::stream puts a BIO pair and two fixed 17 KiB buffers of
// its own between OpenSSL and the socket: about 70 KiB for every TLS
// connection, idle or not, on top of OpenSSL's record buffers. Here OpenSSL
// does the socket I/O (send with MSG_NOSIGNAL, recv) and, with
// SSL_MODE_RELEASE_BUFFERS on the context, an idle connection holds only the
// SSL object. When OpenSSL wants the socket readable or writable, the
// operation waits for that with the socket's async_wait and tries again.
//
// The same operations as Asio's stream where infergate uses them: handshake,
// read_some and write_some (so asio::async_write and Beast's HTTP operations
// work over it), native_handle() for SNI, sessions and verify results. Errors
// are Asio's: eof on close_notify, ssl::error::stream_truncated on a close
// without it, OpenSSL's errors in Asio's SSL category. Operations complete on
// the socket's executor, never inside the call that starts them. One worker
// thread uses a stream, so a read and a write may be in flight together.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace infergate {

namespace tls_detail {
// Binds `ssl` to socket `fd` through a BIO whose writes never raise SIGPIPE.
void attachSocket(SSL* ssl, int fd);
// The error of an OpenSSL call that failed with SSL_get_error() == `error`
// (not WANT_READ/WANT_WRITE) and left errno at `systemError`, as Asio's
// ssl::stream reports it.
boost::system::error_code errorOf(int error, int systemError);
}  // namespace tls_detail

template <class NextLayer>
class TlsStream {
 public:
  using next_layer_type = std::remove_reference_t<NextLayer>;
  using executor_type = typename next_layer_type::executor_type;

  template <class Arg>
  TlsStream(Arg&& arg, boost::asio::ssl::context& context)
      : next_(std::forward<Arg>(arg)), ssl_(SSL_new(context.native_handle())) {
    if (!ssl_) throw boost::system::system_error(boost::asio::error::no_memory, "SSL_new");
    // A write completes when all of its buffer is sent, in as many records as
    // it takes (one completion for a 200 KB prompt, not one per 16 KiB
    // record); a retry after WANT_WRITE repeats the same call, as OpenSSL
    // requires, and the buffer may move meanwhile.
    SSL_set_mode(ssl_.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  SSL* native_handle() noexcept { return ssl_.get(); }

  // Handler: void(error_code). The socket must be connected (or accepted).
  template <class Handler>
  void async_handshake(boost::asio::ssl::stream_base::handshake_type type, Handler&& handler) {
    boost::system::error_code ignored;
    next_.non_blocking(true, ignored);
    tls_detail::attachSocket(ssl_.get(), static_cast<int>(next_.native_handle()));
    if (type == boost::asio::ssl::stream_base::client) SSL_set_connect_state(ssl_.get());
    else SSL_set_accept_state(ssl_.get());
    start(Kind::Handshake, nullptr, 0,
          [h = std::forward<Handler>(handler)](boost::system::error_code ec, std::size_t) mutable { h(ec); });
  }

  // Handler: void(error_code, std::size_t). Reads into the first non-empty buffer.
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    const auto into = firstOf<boost::asio::mutable_buffer>(buffers);
    start(Kind::Read, into.data(), into.size(), std::forward<Handler>(handler));
  }

  // Handler: void(error_code, std::size_t). For waits that are usually long
  // (a client's next request, a model's next token): the read's room,
  // `target.prepare(size)`, is taken only once the socket is readable or
  // OpenSSL holds bytes, so a connection that waits holds no read buffer.
  template <class Buffer, class Handler>
  void async_read_when_ready(Buffer& target, std::size_t size, Handler&& handler) {
    if (SSL_has_pending(ssl_.get()) == 1) return async_read_some(target.prepare(size), std::forward<Handler>(handler));
    next_.async_wait(boost::asio::socket_base::wait_read,
                     [this, &target, size, h = std::forward<Handler>(handler)](boost::system::error_code ec) mutable {
                       if (ec) return h(ec, std::size_t{0});
                       async_read_some(target.prepare(size), std::move(h));
                     });
  }

  // Handler: void(error_code, std::size_t). Writes from the first non-empty buffer.
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    const auto from = firstOf<boost::asio::const_buffer>(buffers);
    start(Kind::Write, const_cast<void*>(from.data()), from.size(), std::forward<Handler>(handler));
  }

 private:
  enum class Kind : std::uint8_t { Handshake, Read, Write };

  struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };

  template <class Buffer, class Buffers>
  static Buffer firstOf(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
      if (Buffer b(*it); b.size() > 0) return b;
    return Buffer();
  }

  // One operation: tried now, then again each time the socket is ready as
  // OpenSSL asked, until it completes.
  template <class Handler>
  struct Operation {
    TlsStream* stream;
    Kind kind;
    void* data;
    std::size_t size;
    Handler handler;

    void attempt(bool first) {
      SSL* ssl = stream->ssl_.get();
      ERR_clear_error();
      errno = 0;
      std::size_t done = 0;
      int result = 1;
      switch (kind) {
        case Kind::Handshake: result = SSL_do_handshake(ssl); break;
        case Kind::Read: result = size == 0 ? 1 : SSL_read_ex(ssl, data, size, &done); break;
        case Kind::Write: result = size == 0 ? 1 : SSL_write_ex(ssl, data, size, &done); break;
      }
      const int systemError = errno;
      if (result == 1) return complete(first, {}, done);
      const int error = SSL_get_error(ssl, result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        const auto wait = error == SSL_ERROR_WANT_READ ? boost::asio::socket_base::wait_read
                                                       : boost::asio::socket_base::wait_write;
        stream->next_.async_wait(wait, [op = std::move(*this)](boost::system::error_code ec) mutable {
          if (ec) return op.complete(false, ec, 0);
          op.attempt(false);
        });
        return;
      }
      complete(first, tls_detail::errorOf(error, systemError), 0);
    }

    void complete(bool first, boost::system::error_code ec, std::size_t bytes) {
      if (!first) return handler(ec, bytes);
      // Asio's rule: never from inside the call that started the operation.
      boost::asio::post(stream->get_executor(),
                        [h = std::move(handler), ec, bytes]() mutable { h(ec, bytes); });
    }
  };

  template <class Handler>
  void start(Kind kind, void* data, std::size_t size, Handler&& handler) {
    Operation<std::decay_t<Handler>>{this, kind, data, size, std::forward<Handler>(handler)}.attempt(true);
  }

  NextLayer next_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace infergate
