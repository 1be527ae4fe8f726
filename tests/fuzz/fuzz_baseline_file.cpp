// Drift baseline files through the strict reader. Properties: any input is
// read or refused with a reason, never crashes; a file it reads writes back
// to text that reads to the same counts.
#include <cstdint>
#include <string_view>

#include "filters/profile/baseline_file.hpp"
#include "fuzz_check.hpp"

using namespace infergate::profile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const BinSpec bins;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto file = parseBaselineFile(text, bins);
  if (!file.ok()) {
    FUZZ_CHECK(!file.error.empty(), "refused without a reason");
    return 0;
  }
  const auto again = parseBaselineFile(baselineFileText(file.models, bins), bins);
  FUZZ_CHECK(again.ok(), "a file written back is refused: %s", again.error.c_str());
  FUZZ_CHECK(again.models.size() == file.models.size(), "models lost in the round trip");
  for (std::size_t m = 0; m < file.models.size(); ++m)
    FUZZ_CHECK(again.models[m].model == file.models[m].model && again.models[m].counts == file.models[m].counts,
               "counts of %s changed in the round trip", file.models[m].model.c_str());
  return 0;
}
