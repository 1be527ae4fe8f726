#include "gateway/http/response_body_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace infergate {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What an extension or a trailer field may hold: visible characters, spaces,
// tabs and obs-text; no other control character (a bare LF among them).
bool printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

}  // namespace

void ResponseBodyDecoder::start(Framing framing, std::uint64_t length) {
  framing_ = framing;
  skippedExtras_ = false;
  remaining_ = 0;
  switch (framing) {
    case Framing::None: state_ = State::Done; break;
    case Framing::Length:
      remaining_ = length;
      state_ = length == 0 ? State::Done : State::Data;
      break;
    case Framing::Chunked: state_ = State::SizeStart; break;
    case Framing::UntilClose: state_ = State::Data; break;
  }
}

bool ResponseBodyDecoder::endAtClose() {
  if (state_ == State::Done) return true;
  if (framing_ != Framing::UntilClose) return false;
  state_ = State::Done;
  return true;
}

ResponseBodyDecoder::Step ResponseBodyDecoder::decode(std::string_view in, char* out, std::size_t room) {
  Step step;
  while (step.consumed < in.size() && state_ != State::Done) {
    if (state_ == State::Data) {
      const std::size_t available = in.size() - step.consumed;
      std::size_t take = std::min(available, room - step.produced);
      if (framing_ != Framing::UntilClose) take = static_cast<std::size_t>(std::min<std::uint64_t>(take, remaining_));
      if (take == 0) break;  // the relay buffer is full
      std::memcpy(out + step.produced, in.data() + step.consumed, take);
      step.consumed += take;
      step.produced += take;
      if (framing_ == Framing::UntilClose) continue;
      remaining_ -= take;
      if (remaining_ == 0) state_ = framing_ == Framing::Chunked ? State::DataCr : State::Done;
      continue;
    }
    if (!chunkFraming(in[step.consumed])) {
      step.error = true;
      return step;
    }
    ++step.consumed;
  }
  return step;
}

// A framing byte that can only be `wanted`: on it, the decoder moves to `next`.
bool ResponseBodyDecoder::expect(char c, char wanted, State next) {
  if (c != wanted) return false;
  state_ = next;
  return true;
}

// One byte of a chunk's framing: its size line, the CRLF after its data, the
// trailers after the last chunk.
bool ResponseBodyDecoder::chunkFraming(char c) {
  switch (state_) {
    case State::SizeStart: {
      const int digit = hexValue(c);
      if (digit < 0) return false;
      remaining_ = static_cast<std::uint64_t>(digit);
      state_ = State::SizeDigits;
      return true;
    }
    case State::SizeDigits: {
      if (const int digit = hexValue(c); digit >= 0) {
        if (remaining_ > std::numeric_limits<std::uint64_t>::max() / 16) return false;
        remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
        return true;
      }
      if (c == '\r') {
        state_ = State::SizeLf;
        return true;
      }
      if (c != ';' && c != ' ' && c != '\t') return false;
      state_ = State::SizeExt;
      skippedExtras_ = true;
      return true;
    }
    case State::SizeExt:
      // Up to the line's CR, whatever it holds: Beast's grammar for
      // extensions takes control characters inside quoted strings.
      if (c == '\r') state_ = State::SizeLf;
      return true;
    case State::SizeLf: return expect(c, '\n', remaining_ == 0 ? State::TrailerStart : State::Data);
    case State::DataCr: return expect(c, '\r', State::DataLf);
    case State::DataLf: return expect(c, '\n', State::SizeStart);
    case State::TrailerStart:
      if (c == '\r') {
        state_ = State::FinalLf;
        return true;
      }
      // A field line, or an obsolete fold of one (a space first): skipped
      // either way, as Beast accepts both.
      if (!printable(c)) return false;
      state_ = State::Trailer;
      skippedExtras_ = true;
      return true;
    case State::Trailer:
      if (c == '\r') {
        state_ = State::TrailerLf;
        return true;
      }
      return printable(c);
    case State::TrailerLf: return expect(c, '\n', State::TrailerStart);
    case State::FinalLf: return expect(c, '\n', State::Done);
    case State::Data:
    case State::Done: break;
  }
  return false;
}

}  // namespace infergate
