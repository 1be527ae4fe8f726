#pragma once
// A request's id as its record keeps it: in place up to 32 characters (every
// generated id, and most a client sends), in a block of its own beyond (a
// client's, up to 128: header_rules.cpp). A std::string keeps 15 in place, so
// a generated id was a 32-byte string and a 48-byte heap block for the life of
// every request: every open stream kept both.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace infergate {

class RequestIdText {
 public:
  static constexpr std::size_t kInPlace = 32;

  RequestIdText() = default;
  RequestIdText(const RequestIdText& other) { assign(other.view()); }
  RequestIdText& operator=(const RequestIdText& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  RequestIdText(RequestIdText&&) noexcept = default;
  RequestIdText& operator=(RequestIdText&&) noexcept = default;

  const char* data() const { return long_ ? long_.get() : inPlace_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: an id reads as text

  void clear() {
    size_ = 0;
    long_.reset();
  }
  void assign(std::string_view id) { std::memcpy(room(id.size()), id.data(), id.size()); }
  // The id is `n` characters, which the caller writes at the place returned
  // (the id generator writes its 32 there).
  char* room(std::size_t n) {
    size_ = static_cast<std::uint32_t>(n);
    if (n <= kInPlace) {
      long_.reset();
      return inPlace_;
    }
    long_ = std::make_unique_for_overwrite<char[]>(n);
    return long_.get();
  }

 private:
  char inPlace_[kInPlace];  // written before read (size_ says how much)
  std::uint32_t size_ = 0;
  std::unique_ptr<char[]> long_;  // an id longer than kInPlace
};

}  // namespace infergate
