// Config files through the loader. Properties: it reports errors, never
// throws or crashes, and no message shows a value that came from the
// environment (a secret).
#include <cstdint>
#include <string>

#include "config/loader.hpp"
#include "fuzz_check.hpp"

using namespace infergate::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  static const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SECRET_KEY") return "sk-fuzzsecret-7f3a9c2e1b";
    if (name == "PORT") return "8000";
    return std::nullopt;
  };
  LoadResult result;
  try {
    result = loadString(yaml, "fuzz.yaml", env);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "the loader threw: %s", e.what());
  }
  if (yaml.find("fuzzsecret") != std::string::npos) return 0;  // the file itself says it
  for (const auto& e : result.errors)
    FUZZ_CHECK(e.find("fuzzsecret") == std::string::npos, "an error shows the secret: %s", e.c_str());
  return 0;
}
