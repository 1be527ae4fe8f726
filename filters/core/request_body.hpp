#pragma once
// The proxied request's body, as a Beast Body type.
//
// Beast's string_body grows a std::string by resize(), which zero-fills, and
// copies each piece in from the session's read buffer: for a 200 KB prompt a
// 200 KB memset and a 200 KB memmove per request, about 14% of the proxy's CPU
// (perf, chat_200k). BodyBytes is storage that is never zero-filled, sized once
// from Content-Length, and that the session reads into directly (spare());
// when Beast's parser is then handed those same bytes, the reader only counts
// them. simdjson's padding always follows the bytes, so the body is parsed in
// place.
#include <simdjson.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

namespace infergate {

class BodyBytes {
 public:
  static constexpr std::size_t kPadding = simdjson::SIMDJSON_PADDING;

  BodyBytes() = default;
  BodyBytes(std::string_view text) { assign(text); }  // NOLINT: tests and the fuzzer build bodies from text
  BodyBytes(const BodyBytes& other) { assign(other.view()); }
  BodyBytes& operator=(const BodyBytes& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  BodyBytes& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  BodyBytes(BodyBytes&&) noexcept = default;
  BodyBytes& operator=(BodyBytes&&) noexcept = default;

  const char* data() const { return bytes_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_ & ~kUnpadded; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {bytes_.get(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a body reads as text
  // The bytes with room for simdjson's padding after them (there until
  // dropPadding; after it simdjson refuses the view: INSUFFICIENT_PADDING).
  simdjson::padded_string_view padded() const {
    static const char kEmpty[kPadding + 1] = {};
    if (!bytes_) return simdjson::padded_string_view(kEmpty, 0, kPadding);
    return simdjson::padded_string_view(bytes_.get(), size_, (capacity_ & kUnpadded) ? size_ : size_ + kPadding);
  }

  // Room for `n` bytes in all (padding comes on top), keeping the bytes held.
  void reserve(std::size_t n);
  // The body is only read as text from now on (a stream's, kept for a retry
  // and for samples while its answer is relayed, for seconds): the room past
  // its bytes goes back to malloc, in place (glibc splits the block). The
  // next reserve() makes room and padding again.
  void dropPadding();
  void assign(std::string_view text);
  void append(std::string_view text);
  void clear() { size_ = 0; }
  friend bool operator==(const BodyBytes& body, std::string_view text) { return body.view() == text; }
  void swap(BodyBytes& other) noexcept {
    std::swap(bytes_, other.bytes_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

  // A read straight into place: up to room() bytes at spare(), then grow(n).
  char* spare() { return bytes_.get() + size_; }
  std::size_t room() const { return (capacity_ & kUnpadded) ? 0 : capacity_ - size_; }
  void grow(std::size_t n) { size_ += n; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  // capacity_'s top bit: the block is size_ bytes, without padding (dropPadding).
  static constexpr std::size_t kUnpadded = std::size_t{1} << (8 * sizeof(std::size_t) - 1);
  std::unique_ptr<char, Free> bytes_;  // capacity() + kPadding bytes (malloc'd, never zero-filled)
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

struct RequestBody {
  using value_type = BodyBytes;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      ec = {};
      if (length) body_.reserve(body_.size() + static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t total = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
           ++it) {
        const boost::asio::const_buffer piece = *it;
        total += take(static_cast<const char*>(piece.data()), piece.size());
      }
      return total;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    std::size_t take(const char* bytes, std::size_t n);
    value_type& body_;
  };
};

}  // namespace infergate
