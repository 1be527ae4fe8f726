#include "gateway/net/send_batch.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace infergate {

SendBatch::SendBatch() {
  for (auto& g : generations_) g.copies = std::make_unique_for_overwrite<char[]>(kCopyBytes);  // untouched until used
}

SendBatch::~SendBatch() {
  // A completion's destruction may end its writer, whose socket then asks to
  // be forgotten: the counts are cleared before any of them goes.
  for (auto& g : generations_) {
    const std::size_t from = (&g == running_) ? runningAt_ + 1 : 0;
    const std::size_t count = g.count;
    g.count = 0;
    for (std::size_t i = from; i < count; ++i) g.entries[i].destroy(g.entries[i].completion);
  }
}

char* SendBatch::reserve(std::size_t bytes) {
  Generation& g = queued();
  if (g.count == kMaxSends || kCopyBytes - g.copied < bytes) return nullptr;
  char* at = g.copies.get() + g.copied;
  g.copied += bytes;
  return at;
}

void SendBatch::send(Generation& g) {
  std::array<UringBatch::Op, kMaxSends> sends;
  std::array<std::size_t, kMaxSends> index;
  std::size_t live = 0;
  for (std::size_t i = 0; i < g.count; ++i) {
    const Entry& e = g.entries[i];
    results_[i] = -ECANCELED;
    if (e.forgotten) continue;
    sends[live] = {e.fd, const_cast<char*>(e.data), static_cast<std::uint32_t>(e.size)};  // only read
    index[live++] = i;
  }
  if (live == 0) return;
  std::array<int, kMaxSends> results;
  if (live > 1 && ring_.usable()) {
    ring_.send(std::span(sends.data(), live), std::span(results.data(), live));
  } else {
    for (std::size_t i = 0; i < live; ++i) {
      ssize_t n;
      do n = ::send(sends[i].fd, sends[i].data, sends[i].size, MSG_DONTWAIT | MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      results[i] = n >= 0 ? static_cast<int>(n) : -errno;
    }
  }
  for (std::size_t i = 0; i < live; ++i) results_[index[i]] = results[i];
}

void SendBatch::flush() {
  for (unsigned round = 0; round < kMaxRounds; ++round) {
    Generation& g = queued();
    if (g.count == 0) return;
    queuedIndex_ ^= 1;  // what the completions send goes to the other generation
    send(g);
    running_ = &g;
    for (runningAt_ = 0; runningAt_ < g.count; ++runningAt_) {
      Entry& e = g.entries[runningAt_];
      Outcome outcome{e.data, e.size};
      outcome.batchCopy = e.data >= g.copies.get() && e.data < g.copies.get() + kCopyBytes;
      const int result = results_[runningAt_];
      if (e.forgotten) outcome.forgotten = true;
      else if (result >= 0) outcome.sent = static_cast<std::size_t>(result);
      else outcome.error = -result;
      e.run(e.completion, outcome);
    }
    running_ = nullptr;
    g.count = 0;
    g.copied = 0;
  }
}

void SendBatch::forget(int fd) {
  Generation& q = queued();
  for (std::size_t i = 0; i < q.count; ++i)
    if (q.entries[i].fd == fd) q.entries[i].forgotten = true;
  if (running_ != nullptr)
    for (std::size_t i = runningAt_ + 1; i < running_->count; ++i)
      if (running_->entries[i].fd == fd) running_->entries[i].forgotten = true;
}

}  // namespace infergate
