#pragma once
// The body of an upstream answer, after Beast has parsed its head: framed by
// Content-Length, chunked, or ended by the server's close. Decodes what a read
// brought into the relay buffer and keeps only its place between reads.
//
// Why not Beast's parser for the body too: a stream lasts seconds to minutes,
// and Beast's response parser is 280 bytes a stream for its whole life; its
// chunk parser also waits for a chunk's closing CRLF together with the next
// chunk's size line, so between two events every stream held a read buffer
// with those two bytes in it. This decoder takes every byte it is given up to
// the message's end, so between events a stream holds 16 bytes of state and
// no buffer.
//
// What it accepts is what RFC 9112 allows, as strictly as Beast on everything
// that frames the body: hexadecimal sizes that fit 64 bits, CRLF line ends,
// the data's closing CRLF. Chunk extensions and trailer fields are skipped,
// not interpreted (nothing downstream uses them; the answer is re-chunked),
// and read more leniently than Beast: an extension runs to its line's CRLF,
// a trailer line must be printable. Neither is capped in length, as Beast
// caps neither: nothing of them is kept, and the answer's timeouts bound how
// long a server may go on sending them, as they bound its body.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace infergate {

class ResponseBodyDecoder {
 public:
  enum class Framing : std::uint8_t { None, Length, Chunked, UntilClose };

  // A new body. `length` is Content-Length's value (Framing::Length only).
  void start(Framing framing, std::uint64_t length = 0);

  struct Step {
    std::size_t consumed = 0;  // bytes of `in` taken (framing and data)
    std::size_t produced = 0;  // body bytes written to `out`
    bool error = false;        // the framing is broken: the answer cannot be relayed further
  };
  // Decodes from `in` until it is used up, `room` body bytes are written, the
  // body is whole or the framing is found broken. Bytes past the body's end
  // are not consumed (a server that sends them is not reused).
  Step decode(std::string_view in, char* out, std::size_t room);

  bool done() const { return state_ == State::Done; }
  // The server closed its end. True when that ends the body (a body framed by
  // the close, or one already whole); false when it cut the body short.
  bool endAtClose();
  // A chunk extension or a trailer field was skipped in this body: where the
  // decoder accepts more than Beast (its differential fuzz target asks).
  bool skippedExtras() const { return skippedExtras_; }

 private:
  enum class State : std::uint8_t {
    Data,         // Length, UntilClose, or a chunk's data: `remaining_` bytes (UntilClose: all)
    SizeStart,    // a chunk-size line: its first hex digit
    SizeDigits,   // more hex digits, an extension or the line's CR
    SizeExt,      // an extension, skipped to the line's CR
    SizeLf,       // the size line's LF
    DataCr,       // the CRLF that closes a chunk's data
    DataLf,
    TrailerStart, // after the last chunk: a trailer field, or the CR of the final empty line
    Trailer,      // a trailer field, skipped to its CR
    TrailerLf,
    FinalLf,
    Done,
  };
  bool chunkFraming(char c);
  bool expect(char c, char wanted, State next);

  std::uint64_t remaining_ = 0;
  Framing framing_ = Framing::None;
  State state_ = State::Done;
  bool skippedExtras_ = false;
};

}  // namespace infergate
