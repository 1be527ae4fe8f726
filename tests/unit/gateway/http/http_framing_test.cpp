#include "gateway/http/http_framing.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

using namespace infergate::framing;
namespace http = boost::beast::http;

namespace {
// Parses a request head with Beast, as the session does, and runs the checks.
std::string verdict(const std::string& head) {
  http::request_parser<http::empty_body, infergate::CachedAllocator<char>> parser;
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  if (ec && ec != http::error::need_more) return "beast: " + ec.message();
  return checkRequestHeader(parser.get().base());
}
}  // namespace

TEST(FindHeadEnd, FindsTerminatorAcrossResumedScans) {
  std::string data = "GET / HTTP/1.1\r\nHost: a\r\n\r";
  EXPECT_EQ(findHeadEnd(data), 0u);
  data += "\nBODY";
  EXPECT_EQ(findHeadEnd(data, data.size() - 5), data.size() - 4);
}

TEST(ObsFold, DetectsContinuationLines) {
  EXPECT_TRUE(hasObsFold("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"));
  EXPECT_TRUE(hasObsFold("GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n"));
  EXPECT_FALSE(hasObsFold("GET / HTTP/1.1\r\nHost: a\r\nX-A: b c\r\n\r\n"));
}

TEST(RequestHeaderChecks, AcceptsOrdinaryRequests) {
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "");
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), "");
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), "");
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"), "");
  EXPECT_EQ(verdict("GET / HTTP/1.0\r\n\r\n"), "");
}

TEST(RequestHeaderChecks, RejectsAmbiguousFraming) {
  // Beast rejects Content-Length followed by Transfer-Encoding itself; the other
  // order reaches our check. Either way the request is refused.
  EXPECT_NE(verdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), "");
  EXPECT_NE(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), "");
  EXPECT_EQ(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
            "Only 'Transfer-Encoding: chunked' is supported.");
  EXPECT_NE(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), "");
  EXPECT_NE(verdict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "");
  EXPECT_EQ(verdict("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "Transfer-Encoding is not allowed in HTTP/1.0.");
}

TEST(RequestHeaderChecks, RejectsBadHostAndVersion) {
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\n\r\n"), "HTTP/1.1 requests must have a Host header.");
  EXPECT_EQ(verdict("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), "The request has more than one Host header.");
  // Beast 1.81 refuses these versions itself; our check stays as defence in depth.
  EXPECT_NE(verdict("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), "");
  EXPECT_NE(verdict("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), "");
  EXPECT_NE(verdict("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), "");
}

// Every prefix of a valid head may still become one; the first impossible
// byte is caught whichever read it arrives in.
TEST(IncompleteHead, PrefixesOfValidHeadsPass) {
  const std::string head = "POST /v1/chat/completions?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n";
  for (std::size_t n = 0; n <= head.size(); ++n)
    EXPECT_EQ(incompleteHeadProblem(head.substr(0, n)), "") << head.substr(0, n);
  EXPECT_EQ(incompleteHeadProblem("M-SEARCH * HTTP/1.0\r\n"), "");
}

TEST(IncompleteHead, ImpossibleBytesAreFound) {
  for (const std::string& bad : {std::string("\x16\x03\x01", 3), std::string(" GET"), std::string("GET\t/"),
                                std::string("GET /x HTTP/1.1\n"), std::string("GET /x HTTP/1.1\r\nHost: a\nX"),
                                std::string("GET /x HTTPS"), std::string("GET /x HTTP/a"), std::string("GET /x HTTP/1.10"),
                                std::string("GET /x HTTP/1.1 \r\n"), std::string("GET  /x"),
                                std::string("GET /\x01")}) {
    EXPECT_NE(incompleteHeadProblem(bad), "") << bad;
  }
  // Resumed scans: a bare LF in the new bytes is found; old bytes are not re-judged.
  const std::string head = "GET /x HTTP/1.1\r\nHost: a\r\n";
  EXPECT_EQ(incompleteHeadProblem(head, 10), "");
  EXPECT_NE(incompleteHeadProblem(head + "X: y\n", head.size()), "");
}
