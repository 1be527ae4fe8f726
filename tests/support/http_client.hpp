#pragma once
// A deliberately plain, blocking HTTP/1.1 client over a raw loopback socket
// (or TLS over it): it sends exactly the bytes a test writes (so malformed
// requests can be sent) and parses responses with Beast, recording when each
// body chunk arrived.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct ssl_st;  // OpenSSL's SSL

namespace testsupport {

struct TimedChunk {
  double atMs;        // since the request was sent
  std::string data;
};

struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined with ", "
  std::string body;                             // de-chunked
  std::vector<TimedChunk> chunks;               // chunked bodies only
  bool complete = false;                        // the message ended cleanly
  std::string header(const std::string& name) const;
};

// TLS for a Connection: the server's certificate is verified against
// `caFile` for `serverName` (SNI and host name check).
struct TlsClient {
  std::string caFile;
  std::string serverName = "localhost";
};

class Connection {
 public:
  explicit Connection(std::uint16_t port);
  // Over TLS: the handshake is done here, and throws when it fails.
  Connection(std::uint16_t port, const TlsClient& tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(const std::string& bytes);
  // Reads one response. On timeout or EOF mid-message returns what it has with complete=false.
  Response read(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool headRequest = false);
  // True when the peer closes (EOF or reset) within `timeout`; bytes that arrive meanwhile are discarded.
  bool waitClosed(std::chrono::milliseconds timeout);
  void shutdownWrite();
  void close();             // abortive close: the gateway sees the client go away at once
  bool open() const { return fd_ >= 0; }

 private:
  // One read or write of the socket, through TLS when there is a session.
  long sendSome(const char* data, std::size_t size);
  long recvSome(char* buf, std::size_t size);
  bool buffered() const;  // TLS bytes already decrypted, that poll() would not see

  int fd_ = -1;
  ::ssl_st* ssl_ = nullptr;
  std::string pending_;
  std::chrono::steady_clock::time_point sentAt_{};
};

// A request with the headers an OpenAI client sends.
std::string jsonPost(const std::string& path, const std::string& body,
                     const std::vector<std::string>& extraHeaders = {});
std::string simpleGet(const std::string& path, const std::vector<std::string>& extraHeaders = {});

// One request on a fresh connection.
Response request(std::uint16_t port, const std::string& bytes,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string chatBody(const std::string& model, bool stream = false);

std::int64_t monotonicNowNs();

}  // namespace testsupport
