// stream_load: holds thousands of concurrent SSE chat streams open against one
// address and reports time to first token and inter-token gaps as the client
// sees them, plus errors. wrk measures whole responses; a streaming gateway is
// judged on when each event arrives. One thread, loopback; bounded by
// --timeout-s, after which every stream still open counts as an error.
//
//   stream_load --port 18080 --streams 8000 --tokens 20 --inter-token-ms 200
//
// Streams open at a fixed rate (--open-per-batch every --batch-gap-ms), each
// on its own connection, whatever the answers' pace: an open-loop offered load.
// --first-token-ms asks the bundled mock to think before its first token (a
// model queueing or prefilling), --headers-first 1 to send its head before it
// (as vLLM and TGI do, and the mock by default) or 0 to send it with the
// first token, so the streams waiting for a first token are measured;
// --reset-after N to reset each stream after N events (0: after its head,
// with --headers-first), a model server that crashes.
//
// Prints one line of key=value pairs (milliseconds), for scripts; the
// itl_all_started_* keys are the gaps of the full flow: begun once every
// stream had its first event, and due before the first stream's last event
// was due (the relay alone, without the opening ramp and the closing). An
// event is due its stream's first event's time plus one interval per event
// (the bundled mock paces each stream from its first event). The first
// stream's end as the client sees it would leak the closing in: a proxy busy
// closing the first streams delays the very event that would end the window
// (itl_until_end_seen_p99_ms is that older reading, kept for comparison).
#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  unsigned short port = 0;
  unsigned streams = 1000;
  unsigned tokens = 20;
  unsigned interTokenMs = 200;
  unsigned openPerBatch = 500;  // connections opened together, every batchGapMs
  unsigned batchGapMs = 50;
  unsigned timeoutS = 60;
  // 1: the model server paces tokens as it was started (--inter-token-ms not
  // sent), so endpoints of different speeds stay different (balancing.sh).
  unsigned serverPacing = 0;
  unsigned firstTokenMs = 0;
  int headersFirst = -1;  // -1: the mock's default (its head first, as vLLM)
  int resetAfter = -1;
};

struct Results {
  std::vector<double> ttft;  // ms, one per stream that got a first event
  std::vector<double> ttftSentAt;  // when each of them was sent, ms since the first stream opened
  std::vector<double> itl;   // ms, between consecutive events of a stream
  // The gaps of the full flow: begun once every stream had its first event
  // and ended before any stream ended. No connection is opened or closed then,
  // anywhere on the path, so they measure the relay alone (the opening ramp
  // saturates a proxy's core and stretches the gaps behind it).
  std::vector<double> itlAllStarted;
  std::vector<double> itlAllStartedAt;  // when each of them ended, ms since the first stream opened
  std::vector<std::pair<unsigned, unsigned>> itlAllStartedOf;  // whose: the stream (in opening order) and the event
  std::vector<double> itlUntilEndSeen;  // begun once every stream had its first event, ended before any end was seen
  Clock::time_point firstOpenedAt{};
  Clock::time_point firstEndDue = Clock::time_point::max();  // when the first stream's last event is due
  Clock::time_point allStartedAt = Clock::time_point::max();
  unsigned streams = 0;
  unsigned ok = 0, errors = 0, open = 0, maxOpen = 0;
};

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Finds "data: " across read boundaries and tells a token event from [DONE].
class EventScanner {
 public:
  // Calls onEvent(done) for each event that starts in `bytes`.
  template <class OnEvent>
  void scan(std::string_view bytes, OnEvent&& onEvent) {
    static constexpr std::string_view kMark = "data: ";
    for (char c : bytes) {
      if (matched_) {
        matched_ = false;
        onEvent(c == '[');
      }
      if (c == kMark[state_]) {
        if (++state_ == kMark.size()) {
          state_ = 0;
          matched_ = true;
        }
      } else {
        state_ = c == kMark[0] ? 1 : 0;
      }
    }
  }

 private:
  std::size_t state_ = 0;
  bool matched_ = false;
};

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  Stream(asio::io_context& io, const Options& options, Results& results, const std::string& request, unsigned index)
      : socket_(io), options_(options), results_(results), request_(request), index_(index) {}

  void start() {
    socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), options_.port),
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (ec) return self->fail();
                            ++self->results_.open;
                            self->results_.maxOpen = std::max(self->results_.maxOpen, self->results_.open);
                            self->counted_ = true;
                            self->send();
                          });
  }

  void abandon() {
    if (!finished_) fail();
  }

 private:
  void send() {
    sentAt_ = Clock::now();
    asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->fail();
      self->read();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->fail();
      self->onBytes(std::string_view(self->buffer_.data(), n));
    });
  }

  void onBytes(std::string_view bytes) {
    const auto now = Clock::now();
    if (!statusChecked_) {
      statusChecked_ = true;
      if (bytes.substr(0, 12) != "HTTP/1.1 200") return fail();
    }
    bool done = false;
    scanner_.scan(bytes, [&](bool isDone) {
      if (isDone) {
        done = true;
        return;
      }
      const unsigned event = events_++;
      if (event == 0) {
        firstEvent_ = now;
        results_.ttft.push_back(msBetween(sentAt_, now));
        results_.ttftSentAt.push_back(msBetween(results_.firstOpenedAt, sentAt_));
        if (results_.ttft.size() == 1 && options_.serverPacing == 0)
          results_.firstEndDue = now + std::chrono::milliseconds(options_.interTokenMs) * (options_.tokens - 1);
        if (results_.ttft.size() == results_.streams) results_.allStartedAt = now;
      } else {
        results_.itl.push_back(msBetween(lastEvent_, now));
        const bool allStarted = lastEvent_ >= results_.allStartedAt;
        if (allStarted && results_.ok + results_.errors == 0) results_.itlUntilEndSeen.push_back(msBetween(lastEvent_, now));
        // Without a known pace (--server-pacing), the end as seen.
        const bool beforeFirstEnd = options_.serverPacing == 0
                                        ? firstEvent_ + std::chrono::milliseconds(options_.interTokenMs) * event <
                                              results_.firstEndDue
                                        : results_.ok + results_.errors == 0;
        if (allStarted && beforeFirstEnd) {
          results_.itlAllStarted.push_back(msBetween(lastEvent_, now));
          results_.itlAllStartedAt.push_back(msBetween(results_.firstOpenedAt, now));
          results_.itlAllStartedOf.emplace_back(index_, event);
        }
      }
      lastEvent_ = now;
    });
    if (done) {
      // The tokens, then a closing chunk (finish_reason, maybe usage): fewer is an error.
      if (events_ < options_.tokens) return fail();
      return finish(true);
    }
    read();
  }

  void fail() { finish(false); }

  void finish(bool ok) {
    if (finished_) return;
    finished_ = true;
    if (ok) ++results_.ok;
    else ++results_.errors;
    if (counted_) --results_.open;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  const Options& options_;
  Results& results_;
  const std::string& request_;
  const unsigned index_;  // in opening order
  std::array<char, 4096> buffer_{};
  EventScanner scanner_;
  Clock::time_point sentAt_{}, lastEvent_{}, firstEvent_{};
  unsigned events_ = 0;
  bool statusChecked_ = false, counted_ = false, finished_ = false;
};

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view key = argv[i];
    const auto value = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    if (key == "--port") o.port = static_cast<unsigned short>(value);
    else if (key == "--streams") o.streams = value;
    else if (key == "--tokens") o.tokens = value;
    else if (key == "--inter-token-ms") o.interTokenMs = value;
    else if (key == "--open-per-batch") o.openPerBatch = std::max(1u, value);
    else if (key == "--batch-gap-ms") o.batchGapMs = value;
    else if (key == "--timeout-s") o.timeoutS = value;
    else if (key == "--server-pacing") o.serverPacing = value;
    else if (key == "--first-token-ms") o.firstTokenMs = value;
    else if (key == "--headers-first") o.headersFirst = value != 0 ? 1 : 0;
    else if (key == "--reset-after") o.resetAfter = static_cast<int>(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (o.port == 0) {
    std::fprintf(stderr, "usage: stream_load --port P [--streams N --tokens T --inter-token-ms D]\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const std::string body = R"({"model":"mock-model","messages":[{"role":"user","content":"Tell me a story."}],"stream":true})";
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "x-mock-tokens: " + std::to_string(options.tokens) +
                              (options.serverPacing != 0
                                   ? std::string()
                                   : "\r\nx-mock-inter-token-ms: " + std::to_string(options.interTokenMs)) +
                              (options.firstTokenMs != 0
                                   ? "\r\nx-mock-first-token-ms: " + std::to_string(options.firstTokenMs)
                                   : std::string()) +
                              (options.headersFirst >= 0
                                   ? "\r\nx-mock-headers-first: " + std::to_string(options.headersFirst)
                                   : std::string()) +
                              (options.resetAfter >= 0 ? "\r\nx-mock-reset-after: " + std::to_string(options.resetAfter)
                                                       : std::string()) +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  asio::io_context io;
  Results results;
  results.ttft.reserve(options.streams);
  results.ttftSentAt.reserve(options.streams);
  results.itl.reserve(static_cast<std::size_t>(options.streams) * options.tokens);
  results.itlAllStarted.reserve(static_cast<std::size_t>(options.streams) * options.tokens);
  results.itlAllStartedAt.reserve(static_cast<std::size_t>(options.streams) * options.tokens);
  results.itlAllStartedOf.reserve(static_cast<std::size_t>(options.streams) * options.tokens);
  results.streams = options.streams;
  std::vector<std::shared_ptr<Stream>> streams;
  streams.reserve(options.streams);

  // Open in batches so the listen backlog is not the thing measured.
  asio::steady_timer opener(io);
  unsigned opened = 0;
  std::function<void()> openBatch = [&] {
    for (unsigned i = 0; i < options.openPerBatch && opened < options.streams; ++i, ++opened) {
      streams.push_back(std::make_shared<Stream>(io, options, results, request, opened));
      streams.back()->start();
    }
    if (opened < options.streams) {
      opener.expires_after(std::chrono::milliseconds(options.batchGapMs));
      opener.async_wait([&](boost::system::error_code ec) {
        if (!ec) openBatch();
      });
    }
  };
  openBatch();

  asio::steady_timer deadline(io);
  deadline.expires_after(std::chrono::seconds(options.timeoutS));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    opener.cancel();
    for (auto& s : streams) s->abandon();
  });
  const auto started = Clock::now();
  results.firstOpenedAt = started;
  // Runs until every stream has finished (or the deadline abandoned it).
  while (results.ok + results.errors < options.streams && io.run_one()) {
  }
  deadline.cancel();
  const double elapsed = msBetween(started, Clock::now());
  const double firstTtft = results.ttft.empty() ? 0 : results.ttft.front();
  const double firstEndDue =
      results.firstEndDue == Clock::time_point::max() ? 0 : msBetween(results.firstOpenedAt, results.firstEndDue);

  // STREAM_LOAD_GAP_TRACE=FILE: each gap of the full flow as "ended_at_ms gap_ms stream event", to see
  // whether late events come together (a stall on the path) or spread out. Written before the
  // percentiles, which reorder the gaps in place (nth_element moves the largest to the end, where a
  // trace written afterwards pairs them with the latest times: a stall at the window's end that never was).
  if (const char* trace = std::getenv("STREAM_LOAD_GAP_TRACE"))
    if (FILE* f = std::fopen(trace, "w")) {
      for (std::size_t i = 0; i < results.itlAllStarted.size(); ++i)
        std::fprintf(f, "%.3f %.3f %u %u\n", results.itlAllStartedAt[i], results.itlAllStarted[i],
                     results.itlAllStartedOf[i].first, results.itlAllStartedOf[i].second);
      std::fclose(f);
    }
  // STREAM_LOAD_TTFT_TRACE=FILE: each stream's TTFT as "sent_at_ms ttft_ms", to see which part of the
  // opening a slow first token belongs to.
  if (const char* trace = std::getenv("STREAM_LOAD_TTFT_TRACE"))
    if (FILE* f = std::fopen(trace, "w")) {
      for (std::size_t i = 0; i < results.ttft.size(); ++i)
        std::fprintf(f, "%.3f %.3f\n", results.ttftSentAt[i], results.ttft[i]);
      std::fclose(f);
    }
  std::printf(
      "streams=%u ok=%u errors=%u max_open=%u elapsed_ms=%.0f ttft_p50_ms=%.3f ttft_p99_ms=%.3f ttft_max_ms=%.3f "
      "itl_p50_ms=%.3f itl_p99_ms=%.3f itl_max_ms=%.3f itl_all_started_gaps=%zu itl_all_started_p50_ms=%.3f "
      "itl_all_started_p90_ms=%.3f itl_all_started_p99_ms=%.3f itl_until_end_seen_p99_ms=%.3f first_ttft_ms=%.3f first_end_due_ms=%.1f\n",
      options.streams, results.ok, results.errors, results.maxOpen, elapsed, percentile(results.ttft, 0.5),
      percentile(results.ttft, 0.99), percentile(results.ttft, 1.0), percentile(results.itl, 0.5),
      percentile(results.itl, 0.99), percentile(results.itl, 1.0), results.itlAllStarted.size(),
      percentile(results.itlAllStarted, 0.5), percentile(results.itlAllStarted, 0.9),
      percentile(results.itlAllStarted, 0.99), percentile(results.itlUntilEndSeen, 0.99), firstTtft, firstEndDue);
  return results.errors == 0 ? 0 : 1;
}
