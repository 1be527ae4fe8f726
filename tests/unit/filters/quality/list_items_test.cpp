#include "filters/quality/list_items.hpp"

#include <gtest/gtest.h>

#include "filters/quality/scorers.hpp"

using namespace infergate::quality;

TEST(ListItems, CountsListLinesAndInlineRuns) {
  EXPECT_EQ(enumeratedItems("1. Red\n2. Blue\n3. Yellow"), 3u);
  EXPECT_EQ(enumeratedItems("Steps:\n- one\n- two\n* three\n• four\n・five"), 5u);
  EXPECT_EQ(enumeratedItems("2, 3, 5, 7, 11, 13"), 6u);
  EXPECT_EQ(enumeratedItems("2、3、5、7、11"), 5u);
  EXPECT_EQ(enumeratedItems("Lundi, mardi, mercredi, jeudi, vendredi, samedi et dimanche."), 6u);
  // Clauses of prose are not items.
  EXPECT_LT(enumeratedItems("First, we heat the pan until it is very hot and smoking slightly, then, when it is "
                            "ready, we add the oil and wait a moment before adding anything else to it."),
            4u);
}

TEST(ListItems, ListMarkers) {
  EXPECT_EQ(listMarker("12. Twelve"), "12. ");
  EXPECT_EQ(listMarker("3) Three"), "3) ");
  EXPECT_EQ(listMarker("  - nested"), "  - ");
  EXPECT_EQ(listMarker("2024 was a year"), "");
  EXPECT_EQ(listMarker("3.5 litres"), "");
}

TEST(ListItems, AnAnswerFarPastTheAskedCountIsFlagged) {
  EXPECT_FALSE(overrunsCount(5, 5));
  EXPECT_FALSE(overrunsCount(10, 3));  // a few extra is generosity
  EXPECT_TRUE(overrunsCount(11, 3));
  EXPECT_FALSE(overrunsCount(40, 0));  // nothing was asked

  ScorerInput in;
  in.finishReason = "stop";
  in.promptRequests.itemCount = 5;
  in.text = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22";
  EXPECT_TRUE(scoreOutput(in, ScorerSettings{}).has(OutputFlag::CountOverrun));
  in.text = "1, 2, 3, 4, 5";
  EXPECT_FALSE(scoreOutput(in, ScorerSettings{}).has(OutputFlag::CountOverrun));
  // Data is not a list: a JSON array of records has many commas.
  in.text = R"([{"id": 1, "name": "a", "x": 1, "y": 2}, {"id": 2, "name": "b", "x": 3, "y": 4}, {"id": 3, "name": "c", "x": 5, "y": 6}])";
  EXPECT_FALSE(scoreOutput(in, ScorerSettings{}).has(OutputFlag::CountOverrun));
}
