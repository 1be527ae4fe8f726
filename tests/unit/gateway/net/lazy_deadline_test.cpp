// LazyDeadline over the worker's DeadlineHeap: expiry order, moves later and
// earlier, clear and cancel, and the owners' anchors, on a real io_context.
#include "gateway/net/lazy_deadline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "gateway/net/deadline_heap.hpp"

namespace infergate {
namespace {

using namespace std::chrono_literals;
using Clock = LazyDeadline::Clock;

// An owner as the session and the exchange are: kept by a shared_ptr, which
// a set deadline holds.
struct Owner : std::enable_shared_from_this<Owner> {
  Owner(boost::asio::io_context& io, std::vector<int>& fired, int name)
      : fired(fired),
        name(name),
        deadline(
            io.get_executor(), this, [](void* self) { return std::shared_ptr<void>(static_cast<Owner*>(self)->shared_from_this()); },
            [](void* self) { static_cast<Owner*>(self)->onExpire(); }) {}
  void onExpire() {
    fired.push_back(name);
    if (then) then(*this);
  }
  std::vector<int>& fired;
  int name;
  std::function<void(Owner&)> then;
  LazyDeadline deadline;
};

void runFor(boost::asio::io_context& io, Clock::duration d) {
  io.restart();
  io.run_for(d);
}

TEST(LazyDeadline, DeadlinesExpireInTheirOrderWhateverTheOrderTheyWereSet) {
  boost::asio::io_context io;
  std::vector<int> fired;
  std::vector<std::shared_ptr<Owner>> owners;
  std::vector<int> offsets(40);
  for (int i = 0; i < 40; ++i) offsets[i] = i;
  std::shuffle(offsets.begin(), offsets.end(), std::mt19937(7));
  const auto start = Clock::now() + 20ms;
  for (int i = 0; i < 40; ++i) {
    owners.push_back(std::make_shared<Owner>(io, fired, offsets[i]));
    owners.back()->deadline.set(start + std::chrono::milliseconds(2 * offsets[i]));
  }
  EXPECT_EQ(DeadlineHeap::of(io.get_executor()).size(), 40u);
  runFor(io, 300ms);
  ASSERT_EQ(fired.size(), 40u);
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
  EXPECT_EQ(DeadlineHeap::of(io.get_executor()).size(), 0u);
  for (const auto& o : owners) EXPECT_FALSE(o->deadline.enabled());
}

TEST(LazyDeadline, MovedLaterItExpiresAtItsNewTimeAndMovedEarlierAtOnce) {
  boost::asio::io_context io;
  std::vector<int> fired;
  auto later = std::make_shared<Owner>(io, fired, 1);
  auto earlier = std::make_shared<Owner>(io, fired, 2);
  const auto t0 = Clock::now();
  later->deadline.set(t0 + 20ms);
  later->deadline.set(t0 + 120ms);  // a store: found when 20 ms comes, and waited for again
  earlier->deadline.set(t0 + 400ms);
  earlier->deadline.set(t0 + 60ms);  // earlier than its place in the heap: moved now
  runFor(io, 90ms);
  EXPECT_EQ(fired, std::vector<int>{2});
  runFor(io, 100ms);
  EXPECT_EQ(fired, (std::vector<int>{2, 1}));
  EXPECT_GE(Clock::now() - t0, 120ms);
}

TEST(LazyDeadline, AClearedDeadlineDoesNotExpireAndACancelledOneLetsItsOwnerGo) {
  boost::asio::io_context io;
  std::vector<int> fired;
  auto cleared = std::make_shared<Owner>(io, fired, 1);
  auto cancelled = std::make_shared<Owner>(io, fired, 2);
  std::weak_ptr<Owner> cancelledRef = cancelled;
  cleared->deadline.setAfter(10ms);
  cleared->deadline.clear();
  cancelled->deadline.setAfter(10ms);
  EXPECT_EQ(cancelled.use_count(), 2);  // the heap keeps it alive while it is set
  cancelled->deadline.cancel();
  EXPECT_EQ(cancelled.use_count(), 1);
  EXPECT_EQ(DeadlineHeap::of(io.get_executor()).size(), 1u);  // the cleared one stays until its time
  cancelled.reset();
  EXPECT_TRUE(cancelledRef.expired());
  runFor(io, 60ms);
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(DeadlineHeap::of(io.get_executor()).size(), 0u);
}

TEST(LazyDeadline, AnExpiryMaySetItselfAgainAndCancelAnother) {
  boost::asio::io_context io;
  std::vector<int> fired;
  auto a = std::make_shared<Owner>(io, fired, 1);
  auto b = std::make_shared<Owner>(io, fired, 2);
  int rounds = 0;
  a->then = [&](Owner& self) {
    if (++rounds < 3) self.deadline.setAfter(5ms);
    b->deadline.cancel();
  };
  a->deadline.setAfter(5ms);
  b->deadline.setAfter(30ms);
  runFor(io, 80ms);
  EXPECT_EQ(fired, (std::vector<int>{1, 1, 1}));
}

TEST(LazyDeadline, AnOwnerKeptOnlyByItsDeadlineGoesWhenItExpiresOrTheWorkerStops) {
  std::vector<int> fired;
  std::weak_ptr<Owner> expired, pending;
  {
    boost::asio::io_context io;
    {
      auto a = std::make_shared<Owner>(io, fired, 1);
      auto b = std::make_shared<Owner>(io, fired, 2);
      a->deadline.setAfter(5ms);
      b->deadline.setAfter(std::chrono::hours(1));
      expired = a;
      pending = b;
    }
    EXPECT_FALSE(expired.expired());  // held by the heap
    runFor(io, 40ms);
    EXPECT_EQ(fired, std::vector<int>{1});
    EXPECT_TRUE(expired.expired());
    EXPECT_FALSE(pending.expired());
  }
  EXPECT_TRUE(pending.expired());  // the io_context's end let it go
}

// The owner may cancel from inside one of its own functions: when the
// deadline was its last reference, it goes from the io_context, not in the call.
TEST(LazyDeadline, AnOwnerCancellingTheDeadlineThatKeepsItOutlivesTheCall) {
  boost::asio::io_context io;
  std::vector<int> fired;
  std::weak_ptr<Owner> ref;
  Owner* raw = nullptr;
  {
    auto owner = std::make_shared<Owner>(io, fired, 1);
    owner->deadline.setAfter(std::chrono::hours(1));
    ref = owner;
    raw = owner.get();
  }
  raw->deadline.cancel();
  ASSERT_FALSE(ref.expired());
  EXPECT_EQ(raw->name, 1);
  EXPECT_EQ(DeadlineHeap::of(io.get_executor()).size(), 0u);
  runFor(io, 10ms);
  EXPECT_TRUE(ref.expired());
  EXPECT_TRUE(fired.empty());
}

}  // namespace
}  // namespace infergate
