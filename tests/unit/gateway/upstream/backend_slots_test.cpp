#include "gateway/upstream/backend_slots.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace infergate {
namespace {

class RecordingMailbox final : public SlotMailbox {
 public:
  void deliver(std::uint64_t ticket) override { delivered.push_back(ticket); }
  std::vector<std::uint64_t> delivered;
};

TEST(BackendSlots, CapsSlotsAndCountsThemWhenUnlimited) {
  BackendSlots capped(2, 0);
  EXPECT_TRUE(capped.tryAcquire());
  EXPECT_TRUE(capped.tryAcquire());
  EXPECT_FALSE(capped.tryAcquire());
  capped.release();
  EXPECT_TRUE(capped.tryAcquire());
  EXPECT_EQ(capped.inFlight(), 2);

  BackendSlots unlimited(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(unlimited.tryAcquire());
  EXPECT_EQ(unlimited.inFlight(), 100);  // the retry budget reads it
}

TEST(BackendSlots, ReleasedSlotsGoToWaitersFirstComeFirstServed) {
  BackendSlots slots(1, 2);
  RecordingMailbox mailbox;
  ASSERT_TRUE(slots.tryAcquire());
  EXPECT_TRUE(slots.wait(mailbox, 11));
  EXPECT_TRUE(slots.wait(mailbox, 12));
  EXPECT_FALSE(slots.wait(mailbox, 13));  // max_pending
  EXPECT_EQ(slots.waiting(), 2);
  slots.release();
  EXPECT_EQ(mailbox.delivered, std::vector<std::uint64_t>{11});
  EXPECT_EQ(slots.inFlight(), 1);  // handed over, not freed
  EXPECT_FALSE(slots.tryAcquire());  // a newcomer does not overtake the one still waiting
  slots.release();
  EXPECT_EQ(mailbox.delivered, (std::vector<std::uint64_t>{11, 12}));
  slots.release();
  EXPECT_EQ(slots.inFlight(), 0);
  EXPECT_EQ(slots.waiting(), 0);
}

TEST(BackendSlots, CancelledWaitersAreSkippedAndLateCancelsKeepTheSlot) {
  BackendSlots slots(1, 3);
  RecordingMailbox mailbox;
  ASSERT_TRUE(slots.tryAcquire());
  ASSERT_TRUE(slots.wait(mailbox, 1));
  ASSERT_TRUE(slots.wait(mailbox, 2));
  EXPECT_TRUE(slots.cancel(1));  // left the list before a slot came
  slots.release();
  EXPECT_EQ(mailbox.delivered, std::vector<std::uint64_t>{2});
  EXPECT_FALSE(slots.cancel(2));  // already handed a slot: the caller holds it
  slots.release();
  EXPECT_EQ(slots.inFlight(), 0);
}

TEST(BackendSlots, AWaiterJoiningAsASlotFreesIsServedAtOnce) {
  BackendSlots slots(1, 1);
  RecordingMailbox mailbox;
  // The caller's tryAcquire failed, then the slot was released before it joined.
  ASSERT_TRUE(slots.wait(mailbox, 7));
  EXPECT_EQ(mailbox.delivered, std::vector<std::uint64_t>{7});
  EXPECT_EQ(slots.inFlight(), 1);
  EXPECT_EQ(slots.waiting(), 0);
}

// Threads take and give back slots, waiting when none is free: every wait is
// served exactly once (no lost hand-over), and everything is given back.
TEST(BackendSlots, NoWaiterIsForgottenUnderContention) {
  constexpr int kThreads = 4, kRounds = 2000;
  BackendSlots slots(2, kThreads);
  struct Mailbox final : SlotMailbox {
    std::atomic<int> deliveries{0};
    void deliver(std::uint64_t) override { deliveries.fetch_add(1, std::memory_order_release); }
  };
  std::vector<Mailbox> mailboxes(kThreads);
  std::atomic<int> stuck{0}, waits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        if (!slots.tryAcquire()) {
          const int before = mailboxes[t].deliveries.load(std::memory_order_acquire);
          ASSERT_TRUE(slots.wait(mailboxes[t], static_cast<std::uint64_t>(t) << 32 | i));
          waits.fetch_add(1);
          const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (mailboxes[t].deliveries.load(std::memory_order_acquire) == before) {
            if (std::chrono::steady_clock::now() > giveUp) {
              stuck.fetch_add(1);
              return;
            }
            std::this_thread::yield();
          }
        }
        slots.release();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(stuck.load(), 0);
  int delivered = 0;
  for (auto& m : mailboxes) delivered += m.deliveries.load();
  EXPECT_EQ(delivered, waits.load());
  EXPECT_EQ(slots.inFlight(), 0);
  EXPECT_EQ(slots.waiting(), 0);
}

// A reload's caps: a raised cap admits the waiters at once, a lowered one
// keeps the slots held and admits nobody new until enough are released.
TEST(BackendSlots, NewLimitsApplyToWaitersAndNewRequests) {
  BackendSlots slots(1, 4);
  RecordingMailbox mailbox;
  ASSERT_TRUE(slots.tryAcquire());
  ASSERT_TRUE(slots.wait(mailbox, 1));
  ASSERT_TRUE(slots.wait(mailbox, 2));
  slots.setLimits(2, 4);
  EXPECT_EQ(mailbox.delivered, std::vector<std::uint64_t>{1});
  EXPECT_EQ(slots.inFlight(), 2);
  slots.setLimits(1, 1);
  slots.release();  // 1 held: at the new cap, the waiter still waits
  EXPECT_EQ(mailbox.delivered.size(), 1u);
  RecordingMailbox other;
  EXPECT_FALSE(slots.wait(other, 3));  // max_pending 1, one waiting
  slots.release();
  EXPECT_EQ(mailbox.delivered, (std::vector<std::uint64_t>{1, 2}));
}

}  // namespace
}  // namespace infergate
