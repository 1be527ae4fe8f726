#include "filters/core/log_line.hpp"

#include <gtest/gtest.h>

using infergate::log::appendQuoted;

namespace {
std::string logQuoted(std::string_view text) {
  std::string out;
  appendQuoted(out, text);
  return out;
}

// A logfmt reader's view of a quoted value: unescapes \" \\ \n \xHH.
std::string unquoted(std::string_view q) {
  std::string out;
  EXPECT_TRUE(q.size() >= 2 && q.front() == '"' && q.back() == '"');
  for (std::size_t i = 1; i + 1 < q.size(); ++i) {
    EXPECT_NE(q[i], '"') << "an unescaped quote ends the value early: " << q;
    if (q[i] != '\\') {
      out.push_back(q[i]);
      continue;
    }
    const char e = q[++i];
    if (e == 'n') out.push_back('\n');
    else if (e == 'x') {
      out.push_back(static_cast<char>(std::stoi(std::string(q.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else out.push_back(e);
  }
  return out;
}
}  // namespace

// A message that quotes something stays one logfmt value (it once ended the
// value at its first quote: msg="label must be "good" or "bad"").
TEST(LogLine, MessagesAreQuotedAndEscapedAsLogfmt) {
  EXPECT_EQ(logQuoted(R"(label must be "good" or "bad")"), R"("label must be \"good\" or \"bad\"")");
  EXPECT_EQ(logQuoted("a\\b"), R"("a\\b")");
  EXPECT_EQ(logQuoted("two\nlines\r\x01"), R"("two\nlines\x0d\x01")");
  for (const std::string& text : {std::string("plain"), std::string("\"\"\\\"x"), std::string("tab\there\x7f"), std::string()})
    EXPECT_EQ(unquoted(logQuoted(text)), text);
}

TEST(LogFields, ValuesAreBareOrQuotedAndTheRequestIdComesFirst) {
  using infergate::log::Fields;
  auto f = Fields::request("req-1");
  f.add("client", "::1").add("status", 503).add("note", "two words").add("empty", "");
  EXPECT_EQ(f.text(), R"(request_id=req-1 client=::1 status=503 note="two words" empty="")");
  EXPECT_EQ(Fields::request("").text(), "request_id=-");
  EXPECT_EQ(Fields().add("k", "a=b").text(), R"(k="a=b")");
}

TEST(LogLevels, LinesBelowTheThresholdAreDropped) {
  using infergate::log::Level;
  infergate::log::setThreshold(Level::Warn);
  EXPECT_FALSE(infergate::log::enabled(Level::Info));
  EXPECT_TRUE(infergate::log::enabled(Level::Warn));
  EXPECT_TRUE(infergate::log::enabled(Level::Error));
  infergate::log::setThreshold(Level::Info);
  EXPECT_TRUE(infergate::log::enabled(Level::Info));
  EXPECT_FALSE(infergate::log::enabled(Level::Debug));
  EXPECT_EQ(infergate::log::levelName(Level::Error), "error");
}
