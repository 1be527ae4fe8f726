// Request heads through the session's framing checks and Beast's parser, as
// DownstreamSession::readHead and parseHead use them. Property: a head the
// gateway accepts whole is never refused early by the check that answers
// garbage at once, whichever read its bytes arrive in.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "gateway/http/http_framing.hpp"

using namespace infergate;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 16 * 1024));
  const auto end = framing::findHeadEnd(bytes);
  if (end == 0) {
    (void)framing::incompleteHeadProblem(bytes);
    return 0;
  }
  const auto head = bytes.substr(0, end);
  if (framing::hasObsFold(head)) return 0;
  http::request_parser<http::empty_body, CachedAllocator<char>> parser;
  parser.header_limit(16 * 1024);
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec || !parser.is_header_done()) return 0;
  if (!framing::checkRequestHeader(parser.get().base()).empty()) return 0;
  // Accepted: every prefix, checked as the session resumes its scans, passes.
  std::size_t checked = 0;
  const std::size_t step = std::max<std::size_t>(1, end / 97);
  for (std::size_t n = 1; n < end; n += step) {
    const auto problem = framing::incompleteHeadProblem(head.substr(0, n), checked);
    FUZZ_CHECK(problem.empty(), "an accepted head was refused at byte %zu: %.*s", n, static_cast<int>(problem.size()),
               problem.data());
    checked = n;
  }
  return 0;
}
