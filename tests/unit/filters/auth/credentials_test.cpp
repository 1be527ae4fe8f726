#include "filters/auth/credentials.hpp"

#include <gtest/gtest.h>

#include "filters/auth/api_key_table.hpp"

using namespace infergate;
using namespace infergate::auth;

namespace {
PresentedKey presented(std::vector<std::pair<std::string, std::string>> fields) {
  ProxyRequestHead head;
  for (const auto& [name, value] : fields) head.insert(name, value);
  return presentedKey(head);
}
using Outcome = PresentedKey::Outcome;
}  // namespace

TEST(Credentials, TheThreeWaysClientsSendAKey) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Authorization", "Bearer sk-abc"}, {"authorization", "bearer sk-abc"}, {"api-key", "sk-abc"},
           {"X-Api-Key", " sk-abc "}}) {
    const auto p = presented({{name, value}});
    EXPECT_EQ(p.outcome, Outcome::One) << name;
    EXPECT_EQ(p.key, "sk-abc") << name;
  }
  EXPECT_EQ(presented({}).outcome, Outcome::Missing);
  EXPECT_EQ(presented({{"x-other", "sk-abc"}}).outcome, Outcome::Missing);
}

TEST(Credentials, AnythingButExactlyOnePlausibleKeyIsMalformed) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
      {{"Authorization", "Bearer a"}, {"api-key", "b"}},      // two keys
      {{"Authorization", "Bearer a"}, {"Authorization", "Bearer a"}},
      {{"Authorization", "Bearer "}},                          // empty
      {{"Authorization", "Basic dXNlcjpwYXNz"}},               // another scheme
      {{"api-key", std::string(kMaxKeyBytes + 1, 'k')}},       // too long
      {{"api-key", "sk-caf\xc3\xa9"}},                         // not ASCII
      {{"api-key", "sk a b"}},                                 // spaces inside
  };
  for (const auto& fields : cases) {
    const auto p = presented(fields);
    EXPECT_EQ(p.outcome, Outcome::Malformed) << fields[0].second.substr(0, 20);
    EXPECT_FALSE(p.reason.empty());
    EXPECT_EQ(p.reason.find("sk-"), std::string_view::npos);  // the reason never repeats the key
  }
}

TEST(ApiKeyTable, FindsKeysByTheirDigestOnly) {
  std::vector<config::ApiKeyConfig> keys(2);
  keys[0].name = "a";
  keys[0].digest = config::sha256("sk-first-key-000000");
  keys[1].name = "b";
  keys[1].digest = config::sha256("sk-second-key-11111");
  const ApiKeyTable table(keys);
  EXPECT_EQ(table.find("sk-first-key-000000"), 0u);
  EXPECT_EQ(table.find("sk-second-key-11111"), 1u);
  EXPECT_FALSE(table.find("sk-first-key-00000"));
  EXPECT_FALSE(table.find(""));
  // The digest is SHA-256 (FIPS 180-2 test vector "abc").
  const auto abc = config::sha256("abc");
  EXPECT_EQ(config::parseHexDigest("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), abc);
  EXPECT_FALSE(config::parseHexDigest("ba78"));
  EXPECT_FALSE(config::parseHexDigest(std::string(64, 'g')));
}
