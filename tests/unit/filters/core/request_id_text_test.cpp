#include "filters/core/request_id_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

using infergate::RequestIdText;

// A generated id (32 characters) stays in place; a client's longer one (up to
// 128) is kept whole in a block of its own; copies and moves keep the text,
// and clearing after a long id goes back to the place inside.
TEST(RequestIdText, KeepsShortIdsInPlaceAndLongOnesWhole) {
  RequestIdText id;
  EXPECT_TRUE(id.empty());
  const std::string generated(32, 'a');
  id.assign(generated);
  EXPECT_EQ(id.view(), generated);
  const char* inside = id.data();
  EXPECT_TRUE(inside >= reinterpret_cast<const char*>(&id) && inside < reinterpret_cast<const char*>(&id + 1))
      << "32 characters are kept in the object";

  const std::string client = "client-" + std::string(121, 'x');  // 128
  id.assign(client);
  EXPECT_EQ(id.view(), client);
  RequestIdText copy = id;
  EXPECT_EQ(copy.view(), client);
  RequestIdText moved = std::move(copy);
  EXPECT_EQ(moved.view(), client);

  id.clear();
  EXPECT_TRUE(id.empty());
  id.assign("req-1");
  EXPECT_EQ(id.view(), "req-1");
  EXPECT_EQ(id.data(), inside);
  char* room = id.room(32);
  for (int i = 0; i < 32; ++i) room[i] = static_cast<char>('0' + i % 10);
  EXPECT_EQ(id.view(), "01234567890123456789012345678901");
}
