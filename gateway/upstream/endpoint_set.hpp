#pragma once
// The endpoints one request has tried, by endpoint id: what the picker leaves
// out of its next choice. Ids below 64 (every backend this gateway is usually
// given) are bits in place, so a request, and a stream for its whole life,
// holds no block for them; higher ids take a block of words, grown as needed.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace infergate {

class EndpointSet {
 public:
  EndpointSet() = default;
  EndpointSet(const EndpointSet& other) { *this = other; }
  EndpointSet& operator=(const EndpointSet& other);
  EndpointSet(EndpointSet&&) noexcept = default;
  EndpointSet& operator=(EndpointSet&&) noexcept = default;

  bool has(std::size_t id) const {
    if (id < kInPlace) return (inPlace_ >> id) & 1u;
    const std::size_t word = id / kInPlace - 1;
    return word < moreWords() && (more_[word + 1] >> (id % kInPlace)) & 1u;
  }
  void add(std::size_t id);
  // Forgets every id; a block for high ids is kept for the next request.
  void clear();
  bool empty() const;

 private:
  static constexpr std::size_t kInPlace = 64;
  std::size_t moreWords() const { return more_ ? static_cast<std::size_t>(more_[0]) : 0; }

  std::uint64_t inPlace_ = 0;
  std::unique_ptr<std::uint64_t[]> more_;  // [0]: how many words follow; then ids 64 and up
};

}  // namespace infergate
