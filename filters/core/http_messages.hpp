#pragma once
// The HTTP message types of the proxied path. Their header fields come from the
// worker thread's BlockCache (see block_cache.hpp for why); everything else
// (admin, judge, health checks) uses Beast's defaults.
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "filters/core/block_cache.hpp"

namespace infergate {

using ProxyFields = boost::beast::http::basic_fields<CachedAllocator<char>>;
using ProxyRequestHead = boost::beast::http::request_header<ProxyFields>;
using ProxyResponseHead = boost::beast::http::response_header<ProxyFields>;
using ProxyRequestMessage = boost::beast::http::request<boost::beast::http::string_body, ProxyFields>;
using ProxyRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body, CachedAllocator<char>>;
using ProxyResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body, CachedAllocator<char>>;

}  // namespace infergate
