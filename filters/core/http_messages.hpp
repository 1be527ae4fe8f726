#pragma once
// The HTTP message types of the proxied path. Their header fields come from the
// worker thread's BlockCache (see block_cache.hpp for why); everything else
// (admin, judge, health checks) uses Beast's defaults.
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include "filters/core/block_cache.hpp"
#include "filters/core/request_body.hpp"

namespace infergate {

using ProxyFields = boost::beast::http::basic_fields<CachedAllocator<char>>;
using ProxyRequestHead = boost::beast::http::request_header<ProxyFields>;
using ProxyResponseHead = boost::beast::http::response_header<ProxyFields>;
// The request body is BodyBytes (request_body.hpp): read into place, parsed in place.
using ProxyRequestMessage = boost::beast::http::request<RequestBody, ProxyFields>;
using ProxyRequestParser = boost::beast::http::request_parser<RequestBody, CachedAllocator<char>>;
using ProxyResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body, CachedAllocator<char>>;

}  // namespace infergate
