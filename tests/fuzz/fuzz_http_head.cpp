// Request heads through the session's framing checks and Beast's parser, as
// DownstreamSession::readHead and parseHead use them. Property: a head the
// gateway accepts whole is never refused early by the check that answers
// garbage at once, whichever read its bytes arrive in. And on any accepted
// head: the presented API key, when one is taken, is a plausible key, the
// client a trusted proxy names is an address, and the upstream head a retry
// writes from the text a stream kept of the head is the one the parsed head
// gives, whichever backend's headers the attempt adds.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <string_view>

#include "config/cidr.hpp"
#include "filters/auth/credentials.hpp"
#include "fuzz_check.hpp"
#include "gateway/http/header_rules.hpp"
#include "gateway/http/http_framing.hpp"
#include "gateway/http/message_writer.hpp"

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
  const auto presented = auth::presentedKey(parser.get().base());
  if (presented.outcome == auth::PresentedKey::Outcome::One) {
    FUZZ_CHECK(!presented.key.empty() && presented.key.size() <= auth::kMaxKeyBytes, "a key of %zu bytes was taken",
               presented.key.size());
    for (unsigned char c : presented.key) FUZZ_CHECK(c > 0x20 && c < 0x7F, "a key with byte %u was taken", c);
  } else if (presented.outcome == auth::PresentedKey::Outcome::Malformed) {
    FUZZ_CHECK(!presented.reason.empty(), "a refused key without a reason");
  }
  static const std::vector<config::Cidr> kTrusted = {*config::parseCidr("10.0.0.0/8")};
  const auto client = headers::forwardedClient(parser.get().base(), kTrusted, "10.1.1.1");
  FUZZ_CHECK(config::parseCidr(client).has_value() && client.find('/') == std::string::npos,
             "the forwarded client is not an address: %s", client.c_str());
  // A stream's kept head against its parsed head, for a first backend that
  // overrides some client lines and fallbacks that override others or none.
  static const std::vector<config::HeaderValue> kTenant = {{"X-Tenant", "t"}, {"authorization", "Bearer up"}};
  static const std::vector<config::HeaderValue> kOther = {{"user-agent", "gw"}, {"x-forwarded-for", "9.9.9.9"}};
  writer::UpstreamRequestHead first{"m:1", "rid", "10.1.1.1", &kTenant, 12};
  first.forwardedTrusted = (data[0] & 1) != 0;
  first.dropClientCredentials = (data[0] & 2) != 0;
  writer::KeptRequestHead kept;
  writer::keepRequestHead(kept, parser.get().base(), first);
  std::string fromParsed, fromKept;
  for (const auto* injected : {&kTenant, &kOther, static_cast<const std::vector<config::HeaderValue>*>(nullptr)}) {
    auto attempt = first;
    attempt.authority = "n:2";
    attempt.injected = injected;
    writer::requestHead(fromParsed, parser.get().base(), attempt);
    writer::requestHead(fromKept, kept, attempt);
    FUZZ_CHECK(fromKept == fromParsed, "a kept head wrote\n%s\nfor\n%s", fromKept.c_str(), fromParsed.c_str());
  }
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
