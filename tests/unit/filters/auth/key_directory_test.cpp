// The keys in force, replaced while workers read them: a name keeps its label
// index across replacements, a new name takes the next one while
// auth.max_keys allows, a refused replacement changes nothing, and a worker
// sees a replacement at its next look.
#include "filters/auth/key_directory.hpp"

#include <gtest/gtest.h>

#include "config/api_key_digest.hpp"
#include "config/loader.hpp"

namespace infergate::auth {
namespace {

config::ApiKeyConfig key(const std::string& name, const std::string& value, std::vector<std::string> routes = {}) {
  config::ApiKeyConfig k;
  k.name = name;
  k.digest = config::sha256(value);
  k.routes = std::move(routes);
  return k;
}

config::Config twoRoutes(unsigned maxKeys) {
  auto loaded = config::loadString(
      "backends:\n  - name: b\n    endpoints: [{url: 'http://127.0.0.1:1'}]\n"
      "routes:\n  - name: chat\n    path_prefix: /v1/chat\n    backend: b\n"
      "  - name: embed\n    path_prefix: /v1/\n    backend: b\n"
      "auth:\n  max_keys: " + std::to_string(maxKeys) + "\n",
      "keys.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0]);
  loaded.config.auth.keys = {key("alpha", "sk-alpha-000000000000", {"chat"}), key("beta", "sk-beta-0000000000000")};
  return std::move(loaded.config);
}

TEST(KeyDirectory, ANameKeepsItsPlaceAndNewNamesTakeTheNext) {
  const auto config = twoRoutes(3);
  metrics::KeyNames names(config.auth.max_keys);
  for (const auto& k : config.auth.keys) names.place(k.name);  // as the LabelSpace does at start
  KeyDirectory directory(config, names, 2);
  const auto& first = directory.current(0);
  ASSERT_EQ(first.keys.size(), 2u);
  EXPECT_EQ(first.place, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(first.routes[0], (std::vector<char>{1, 0}));  // alpha: chat only
  EXPECT_EQ(first.routes[1], (std::vector<char>{1, 1}));

  // beta revoked, alpha rotated to a new value, gamma added.
  std::string error;
  ASSERT_TRUE(directory.replace({key("gamma", "sk-gamma-00000000000"), key("alpha", "sk-alpha-rotated-0000")}, error))
      << error;
  const auto& second = directory.current(0);
  EXPECT_EQ(second.place, (std::vector<std::uint32_t>{3, 1}));
  EXPECT_EQ(names.name(3), "gamma");
  EXPECT_EQ(second.table.find("sk-alpha-000000000000"), std::nullopt) << "the old value is gone";
  EXPECT_EQ(second.table.find("sk-alpha-rotated-0000"), std::optional<std::uint32_t>(1));
  EXPECT_EQ(second.table.find("sk-beta-0000000000000"), std::nullopt);
  // Another worker sees the same snapshot at its next look.
  EXPECT_EQ(&directory.current(1), &second);

  // beta comes back: its old place, no new one used.
  ASSERT_TRUE(directory.replace({key("beta", "sk-beta-0000000000000")}, error)) << error;
  EXPECT_EQ(directory.current(0).place, (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(names.count(), 4u);  // none, alpha, beta, gamma
}

TEST(KeyDirectory, MoreNamesThanMaxKeysChangeNothing) {
  const auto config = twoRoutes(3);
  metrics::KeyNames names(config.auth.max_keys);
  for (const auto& k : config.auth.keys) names.place(k.name);
  KeyDirectory directory(config, names, 1);
  const auto generation = directory.generation();
  std::string error;
  EXPECT_FALSE(directory.replace({key("gamma", "sk-gamma-00000000000"), key("delta", "sk-delta-00000000000")}, error));
  EXPECT_NE(error.find("more than auth.max_keys (3)"), std::string::npos) << error;
  EXPECT_EQ(directory.generation(), generation);
  EXPECT_EQ(names.count(), 3u) << "no name took a place";
  EXPECT_EQ(directory.current(0).keys.size(), 2u);
  EXPECT_TRUE(directory.current(0).table.find("sk-alpha-000000000000"));
}

}  // namespace
}  // namespace infergate::auth
