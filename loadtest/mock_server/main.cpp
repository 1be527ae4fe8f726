// infergate-mock: an OpenAI-compatible model server for tests, the quick start
// and benchmarks. Fast enough never to be the bottleneck, with latency, token
// pacing and fault injection set by flags or per request by x-mock-* headers.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mock_session.hpp"
#include "tls_front.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kUsage =
    "usage: infergate-mock [--listen HOST:PORT] [--threads N] [--latency-ms N] [--first-token-ms N]\n"
    "                      [--inter-token-ms N] [--tokens N] [--error-rate R] [--error-status S] [--record]\n"
    "                      [--deterministic] [--output normal|refusal|loop|truncate|badjson|judge4|garbage]\n"
    "Per-request headers override: x-mock-latency-ms, x-mock-first-token-ms, x-mock-inter-token-ms,\n"
    "x-mock-tokens, x-mock-output, x-mock-error-rate, x-mock-status, x-mock-hang, x-mock-reset-after, x-mock-headers-first,\n"
    "x-mock-answer (base64 of the exact answer to give).\n"
    "--tls-cert FILE --tls-key FILE: HTTPS on --listen (the plain server moves to a loopback port it prints);\n"
    "--tls-client-ca FILE: and clients must present a certificate that CA signed.\n"
    "GET /debug/stats reports what the server saw; POST /debug/reset clears it.\n"
    "--batch N: at most N model requests are answered at once, the rest wait their turn (first come, first served).\n"
    "GET /metrics: vLLM's num_requests_running/_waiting and kv_cache_usage_perc (running / batch) from that;\n"
    "/debug/set?signal-running=N&signal-waiting=N&signal-kv-permille=N\n"
    "&metrics-status=S&batch=N overrides them (no parameters: back to the real load).\n";

void acceptLoop(tcp::acceptor& acceptor, mock::ServerContext& context) {
  acceptor.async_accept([&acceptor, &context](boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::make_shared<mock::Session>(std::move(socket), context)->start();
    acceptLoop(acceptor, context);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned port = 8000;
  unsigned threads = 1;
  std::string tlsCert, tlsKey, tlsClientCa;  // HTTPS mode; clients' certificates required when a CA is given
  mock::ServerContext context;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") {
      auto v = next();
      auto colon = v.rfind(':');
      host = v.substr(0, colon);
      port = static_cast<unsigned>(std::stoul(v.substr(colon + 1)));
    } else if (a == "--threads") threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--latency-ms") context.defaults.latencyMs = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--first-token-ms") context.defaults.firstTokenMs = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--inter-token-ms") context.defaults.interTokenMs = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--tokens") context.defaults.tokens = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--output") {
      const std::string name = next();
      if (!mock::parseOutput(name, context.defaults.output)) {
        std::fprintf(stderr, "infergate-mock: unknown --output %s\n", name.c_str());
        return 2;
      }
    }
    else if (a == "--error-rate") context.defaults.errorRate = std::stod(next());
    else if (a == "--error-status") context.defaults.errorStatus = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--record") context.record = true;
    else if (a == "--batch") context.gate.setBatch(static_cast<unsigned>(std::stoul(next())));
    else if (a == "--tls-cert") tlsCert = next();
    else if (a == "--tls-key") tlsKey = next();
    else if (a == "--tls-client-ca") tlsClientCa = next();
    else if (a == "--deterministic") {
      context.deterministic = true;
      mock::setDeterministic(true);
    }
    else if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (threads == 0) threads = 1;
  context.initial = context.defaults;

  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  tcp::endpoint endpoint(asio::ip::make_address(host), static_cast<unsigned short>(port));
  // HTTPS mode: the plain listener moves to a port of its own on loopback and
  // the TLS front takes the address asked for.
  const bool tls = !tlsCert.empty();
  if (tls != !tlsKey.empty()) {
    std::fprintf(stderr, "infergate-mock: --tls-cert and --tls-key go together\n");
    return 2;
  }
  const tcp::endpoint tlsEndpoint = endpoint;
  if (tls) endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  for (unsigned t = 0; t < threads; ++t) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    auto acceptor = std::make_unique<tcp::acceptor>(*ios.back());
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    int one = 1;
    ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor->bind(endpoint);
    acceptor->listen(asio::socket_base::max_listen_connections);
    if (t == 0) endpoint = acceptor->local_endpoint();
    acceptLoop(*acceptor, context);
    acceptors.push_back(std::move(acceptor));
  }
  std::unique_ptr<mock::TlsFront> front;
  if (tls) {
    try {
      front = std::make_unique<mock::TlsFront>(*ios[0], tlsEndpoint, endpoint, tlsCert, tlsKey, tlsClientCa,
                                               context.stats);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "infergate-mock: HTTPS: %s\n", e.what());
      return 2;
    }
    const auto at = front->localEndpoint();
    std::printf("infergate-mock listening on %s:%u threads %u https (plain %s:%u)\n", at.address().to_string().c_str(),
                at.port(), threads, endpoint.address().to_string().c_str(), endpoint.port());
  } else {
    std::printf("infergate-mock listening on %s:%u threads %u\n", endpoint.address().to_string().c_str(),
                endpoint.port(), threads);
  }
  std::fflush(stdout);

  asio::signal_set signals(*ios[0], SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    for (auto& io : ios) io->stop();
  });
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back([&ios, t] { ios[t]->run(); });
  ios[0]->run();
  for (auto& io : ios) io->stop();
  for (auto& w : workers) w.join();
  return 0;
}
