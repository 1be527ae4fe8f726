#include "gateway/http_framing.hpp"

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
