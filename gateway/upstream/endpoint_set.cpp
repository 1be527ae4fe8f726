#include "gateway/upstream/endpoint_set.hpp"

#include <algorithm>

namespace infergate {

EndpointSet& EndpointSet::operator=(const EndpointSet& other) {
  if (this == &other) return *this;
  inPlace_ = other.inPlace_;
  const std::size_t words = other.moreWords();
  if (words == 0) {
    if (more_) std::fill_n(more_.get() + 1, moreWords(), 0);
    return *this;
  }
  if (moreWords() < words) more_ = std::make_unique<std::uint64_t[]>(words + 1);
  more_[0] = words;
  std::copy_n(other.more_.get() + 1, words, more_.get() + 1);
  return *this;
}

void EndpointSet::add(std::size_t id) {
  if (id < kInPlace) {
    inPlace_ |= std::uint64_t{1} << id;
    return;
  }
  const std::size_t word = id / kInPlace - 1;
  if (word >= moreWords()) {
    const std::size_t words = word + 1;
    auto grown = std::make_unique<std::uint64_t[]>(words + 1);  // zeroed
    grown[0] = words;
    if (more_) std::copy_n(more_.get() + 1, moreWords(), grown.get() + 1);
    more_ = std::move(grown);
  }
  more_[word + 1] |= std::uint64_t{1} << (id % kInPlace);
}

void EndpointSet::clear() {
  inPlace_ = 0;
  if (more_) std::fill_n(more_.get() + 1, moreWords(), 0);
}

bool EndpointSet::empty() const {
  if (inPlace_ != 0) return false;
  for (std::size_t w = 0; w < moreWords(); ++w)
    if (more_[w + 1] != 0) return false;
  return true;
}

}  // namespace infergate
