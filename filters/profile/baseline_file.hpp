#pragma once
// The drift baseline file, version 1: a frozen baseline on disk, read back at
// start (and by `infergate --check`).
//
//   {"version":1,"models":{"<model label>":{"<feature>":{"<bin label>":<count>,...},...},...}}
//
// Reading is strict. A file that names a feature or a bin this build and its
// config do not have, or whose counts are not whole numbers, is refused with
// the path of the offending entry: traffic compared against a baseline binned
// differently would raise drift alerts that mean nothing, and learning anew
// would overwrite the operator's file. Bins absent from a feature count zero.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/profile/features.hpp"

namespace infergate::profile {

struct ModelBaseline {
  std::string model;                  // label as written; may no longer be configured
  std::vector<std::uint64_t> counts;  // feature * kMaxBins + bin
};

struct BaselineFile {
  bool exists = false;                // false: no file yet (learn from traffic)
  std::vector<ModelBaseline> models;
  std::string error;                  // why the file was refused; empty when it was read
  bool ok() const { return error.empty(); }
};

BaselineFile parseBaselineFile(std::string_view text, const BinSpec& bins);
// A missing file is not an error (exists = false); an unreadable one is.
BaselineFile readBaselineFile(const std::string& path, const BinSpec& bins);

std::string baselineFileText(const std::vector<ModelBaseline>& models, const BinSpec& bins);
// Written to `path`.tmp and renamed over `path`, so readers never see half a
// file. Returns the error (empty on success).
std::string writeBaselineFile(const std::string& path, const std::vector<ModelBaseline>& models, const BinSpec& bins);

}  // namespace infergate::profile
