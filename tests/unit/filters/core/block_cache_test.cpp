#include "filters/core/block_cache.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "filters/core/http_messages.hpp"

using infergate::BlockCache;
using infergate::CachedAllocator;

TEST(BlockCache, GivesBackTheLastBlockOfTheSameSizeClass) {
  BlockCache cache;
  void* a = cache.take(100);  // 128-byte class
  std::memset(a, 0x5a, 128);  // the whole class size is usable
  cache.give(a, 100);
  EXPECT_EQ(cache.take(65), a);   // same class: reused
  void* b = cache.take(100);      // the list is empty again: fresh memory
  EXPECT_NE(b, a);
  cache.give(a, 128);
  void* c = cache.take(64);       // 64 is another class
  EXPECT_NE(c, a);
  EXPECT_EQ(cache.take(128), a);
  cache.give(a, 128);
  cache.give(b, 100);
  cache.give(c, 64);
}

TEST(BlockCache, LargeBlocksBypassTheCache) {
  BlockCache cache;
  void* big = cache.take(BlockCache::kLargest + 1);
  std::memset(big, 1, BlockCache::kLargest + 1);
  cache.give(big, BlockCache::kLargest + 1);
  void* small = cache.take(BlockCache::kLargest);
  std::memset(small, 2, BlockCache::kLargest);
  cache.give(small, BlockCache::kLargest);
  EXPECT_EQ(cache.take(BlockCache::kLargest), small);
  cache.give(small, BlockCache::kLargest);
}

TEST(BlockCache, KeepsAtMostItsByteBudgetPerClass) {
  BlockCache cache;
  const std::size_t keep = BlockCache::keptBlocks(256);  // 200 bytes: the 256-byte class
  ASSERT_EQ(keep, BlockCache::kKeepBytes / 256);
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < keep + 10; ++i) blocks.push_back(cache.take(200));
  for (void* b : blocks) cache.give(b, 200);
  // The first `keep` returned are cached; the last ten went back to the heap.
  std::set<void*> again;
  for (std::size_t i = 0; i < keep; ++i) again.insert(cache.take(200));
  EXPECT_EQ(again, std::set<void*>(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(keep)));
  for (void* b : again) cache.give(b, 200);
  // The largest class (relay buffers, one per answer being relayed) keeps
  // enough for 128 such answers per worker.
  EXPECT_EQ(BlockCache::keptBlocks(BlockCache::kLargest), 128u);
}

TEST(BlockCache, RelayBuffersOfManyRequestsInFlightComeBackFromTheCache) {
  // 64 answers are relayed at once, then finish, twice over: the second wave
  // is served entirely from the blocks the first gave back.
  BlockCache cache;
  std::vector<void*> first;
  for (int i = 0; i < 64; ++i) first.push_back(cache.take(BlockCache::kLargest));
  for (void* b : first) cache.give(b, BlockCache::kLargest);
  EXPECT_EQ(cache.cached(BlockCache::kLargest), 64u);
  std::set<void*> second;
  for (int i = 0; i < 64; ++i) second.insert(cache.take(BlockCache::kLargest));
  EXPECT_EQ(second, std::set<void*>(first.begin(), first.end()));
  EXPECT_EQ(cache.cached(BlockCache::kLargest), 0u);
  for (void* b : second) cache.give(b, BlockCache::kLargest);
}

// A CachedBlock holds its size class, whatever it was asked for, and gives
// the block back to that class: a larger take returns the smaller block first.
TEST(CachedBlock, HoldsItsSizeClassAndGivesItBackToThatClass) {
  auto& cache = BlockCache::local();
  EXPECT_EQ(BlockCache::blockBytes(1), BlockCache::kSmallest);
  EXPECT_EQ(BlockCache::blockBytes(200), 256u);
  EXPECT_EQ(BlockCache::blockBytes(BlockCache::kLargest), BlockCache::kLargest);
  const auto small = cache.cached(256);
  const auto large = cache.cached(BlockCache::kLargest);
  infergate::CachedBlock block;
  EXPECT_FALSE(block);
  block.take(200);
  ASSERT_TRUE(block);
  EXPECT_EQ(block.capacity(), 256u);
  std::memset(block.get(), 0x5a, block.capacity());  // the whole class is usable
  char* first = block.get();
  block.take(20000);  // a larger piece: the 256-byte block goes back
  EXPECT_EQ(block.capacity(), BlockCache::kLargest);
  EXPECT_EQ(cache.cached(256), small + 1);
  block.reset();
  EXPECT_FALSE(block);
  EXPECT_EQ(cache.cached(BlockCache::kLargest), large + 1);
  infergate::CachedBlock again;
  again.take(129);
  EXPECT_EQ(again.get(), first);  // the same class, from the cache
}

TEST(BlockCache, BlocksMayBeFreedOnAnotherThread) {
  // A block from this thread's cache joins the other thread's list when freed
  // there; both caches release everything when their threads end (ASan checks).
  CachedAllocator<char> alloc;
  char* p = alloc.allocate(300);
  std::memset(p, 3, 300);
  std::thread([&] { alloc.deallocate(p, 300); }).join();
  char* q = alloc.allocate(300);
  alloc.deallocate(q, 300);
}

TEST(CachedAllocator, BeastParsesTheSameFieldsWithIt) {
  namespace http = boost::beast::http;
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "X-Long: " + std::string(3000, 'l') + "\r\nContent-Length: 2\r\n\r\n{}";
  for (int round = 0; round < 3; ++round) {  // later rounds run on recycled blocks
    infergate::ProxyRequestParser parser;
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(head), ec);
    ASSERT_FALSE(ec) << ec.message();
    const auto& m = parser.get();
    EXPECT_EQ(m.target(), "/v1/chat/completions");
    EXPECT_EQ(m["Host"], "a");
    EXPECT_EQ(m["X-Long"], std::string(3000, 'l'));
    EXPECT_EQ(m.body(), "{}");
  }
}
