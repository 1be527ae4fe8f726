#include "gateway/net/tls_stream.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace infergate::tls_detail {

namespace {

// A socket BIO of our own: OpenSSL's writes with write(2) and a peer that
// has gone would raise SIGPIPE; these use send(MSG_NOSIGNAL).
int writeSocket(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  const auto sent = ::send(BIO_get_fd(bio, nullptr), data, static_cast<std::size_t>(length), MSG_NOSIGNAL);
  if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
  return static_cast<int>(sent);
}

int readSocket(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  const auto got = ::recv(BIO_get_fd(bio, nullptr), data, static_cast<std::size_t>(length), 0);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
  return static_cast<int>(got);
}

int putsSocket(BIO* bio, const char* text) { return writeSocket(bio, text, static_cast<int>(std::strlen(text))); }

// Everything else (the descriptor, flush, close flag) as the system socket BIO.
long controlSocket(BIO* bio, int command, long number, void* pointer) {
  return BIO_meth_get_ctrl(BIO_s_socket())(bio, command, number, pointer);
}

const BIO_METHOD* socketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "infergate socket");
    BIO_meth_set_write(m, writeSocket);
    BIO_meth_set_read(m, readSocket);
    BIO_meth_set_puts(m, putsSocket);
    BIO_meth_set_ctrl(m, controlSocket);
    BIO_meth_set_create(m, BIO_meth_get_create(BIO_s_socket()));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(BIO_s_socket()));
    return m;
  }();
  return method;
}

}  // namespace

void attachSocket(SSL* ssl, int fd) {
  BIO* bio = BIO_new(socketMethod());
  BIO_set_fd(bio, fd, BIO_NOCLOSE);  // the socket is its owner's to close
  SSL_set_bio(ssl, bio, bio);
}

boost::system::error_code errorOf(int error, int systemError) {
  const unsigned long queued = ERR_get_error();
  switch (error) {
    case SSL_ERROR_ZERO_RETURN: return boost::asio::error::eof;  // close_notify
    case SSL_ERROR_SYSCALL:
      if (queued != 0) return {static_cast<int>(queued), boost::asio::error::get_ssl_category()};
      if (systemError != 0) return {systemError, boost::system::system_category()};
      return boost::asio::ssl::error::stream_truncated;  // the peer closed without close_notify
    case SSL_ERROR_SSL:
      if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return boost::asio::ssl::error::stream_truncated;
      return {static_cast<int>(queued), boost::asio::error::get_ssl_category()};
    default: return {static_cast<int>(queued), boost::asio::error::get_ssl_category()};
  }
}

}  // namespace infergate::tls_detail
