#include "filters/profile/baseline_file.hpp"

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/profile_features.hpp"
#include "filters/core/errors.hpp"

namespace infergate::profile {

namespace {

constexpr std::uint64_t kVersion = 1;

std::size_t binIndex(const BinSpec& bins, Feature feature, std::string_view label) {
  const auto count = bins.binCount(feature);
  for (std::size_t b = 0; b < count; ++b)
    if (bins.binLabel(feature, b) == label) return b;
  return count;
}

std::string binList(const BinSpec& bins, Feature feature) {
  std::string out;
  for (std::size_t b = 0; b < bins.binCount(feature); ++b) {
    if (b > 0) out += ", ";
    out += bins.binLabel(feature, b);
  }
  return out;
}

// Fills `out` from one model's object; returns the error, prefixed with its path.
std::string parseModel(simdjson::dom::object features, const std::string& path, const BinSpec& bins,
                       std::vector<std::uint64_t>& out) {
  out.assign(kFeatureCount * kMaxBins, 0);
  std::uint32_t present = 0;
  for (auto [featureKey, binsValue] : features) {
    const auto f = config::profileFeatureIndex(featureKey);  // kFeatureCount: none
    const auto featurePath = path + "." + std::string(featureKey);
    if (f == kFeatureCount) return featurePath + ": not a feature infergate profiles";
    if (present & (1u << f)) return featurePath + ": appears twice";
    present |= 1u << f;
    simdjson::dom::object binCounts;
    if (binsValue.get_object().get(binCounts)) return featurePath + ": expected an object of bin counts";
    const auto feature = static_cast<Feature>(f);
    std::uint32_t seen = 0;
    std::uint64_t total = 0;
    for (auto [binKey, countValue] : binCounts) {
      const auto b = binIndex(bins, feature, binKey);
      const auto binPath = featurePath + "." + std::string(binKey);
      if (b == bins.binCount(feature))
        return binPath + ": not a bin of this feature (its bins: " + binList(bins, feature) +
               "; a baseline learnt with other bins cannot be compared)";
      if (seen & (1u << b)) return binPath + ": appears twice";
      seen |= 1u << b;
      std::uint64_t count = 0;
      if (countValue.get_uint64().get(count)) return binPath + ": expected a whole number of requests";
      out[f * kMaxBins + b] = count;
      total += count;
    }
    if (total == 0) return featurePath + ": counts no request";
  }
  for (std::size_t f = 0; f < kFeatureCount; ++f)
    if ((present & (1u << f)) == 0)
      return path + "." + std::string(featureName(static_cast<Feature>(f))) + ": missing";
  return {};
}

}  // namespace

BaselineFile parseBaselineFile(std::string_view text, const BinSpec& bins) {
  BaselineFile file;
  file.exists = true;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(simdjson::padded_string(text)).get(root)) {
    file.error = std::string("not JSON: ") + simdjson::error_message(error);
    return file;
  }
  simdjson::dom::object top;
  std::uint64_t version = 0;
  if (root.get_object().get(top) || top["version"].get_uint64().get(version) || version != kVersion) {
    file.error = "version: expected 1 (the only baseline file version this build reads)";
    return file;
  }
  simdjson::dom::object models;
  if (top["models"].get_object().get(models)) {
    file.error = "models: expected an object with one entry per model";
    return file;
  }
  for (auto [modelKey, featuresValue] : models) {
    const auto path = "models." + std::string(modelKey);
    for (const auto& m : file.models)
      if (m.model == modelKey) {
        file.error = path + ": appears twice";
        return file;
      }
    simdjson::dom::object features;
    if (featuresValue.get_object().get(features)) {
      file.error = path + ": expected an object with one entry per feature";
      return file;
    }
    ModelBaseline model{std::string(modelKey), {}};
    file.error = parseModel(features, path, bins, model.counts);
    if (!file.ok()) return file;
    file.models.push_back(std::move(model));
  }
  return file;
}

BaselineFile readBaselineFile(const std::string& path, const BinSpec& bins) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    BaselineFile file;
    file.exists = errno != ENOENT;
    if (file.exists) file.error = std::string("cannot read: ") + std::strerror(errno);
    return file;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parseBaselineFile(text.str(), bins);
}

std::string baselineFileText(const std::vector<ModelBaseline>& models, const BinSpec& bins) {
  std::string out = "{\"version\":1,\"models\":{";
  for (std::size_t m = 0; m < models.size(); ++m) {
    if (m > 0) out += ',';
    appendJsonString(out, models[m].model);
    out += ":{";
    for (std::size_t f = 0; f < kFeatureCount; ++f) {
      const auto feature = static_cast<Feature>(f);
      if (f > 0) out += ',';
      out += '"';
      out += featureName(feature);
      out += "\":{";
      for (std::size_t b = 0; b < bins.binCount(feature); ++b) {
        if (b > 0) out += ',';
        appendJsonString(out, bins.binLabel(feature, b));
        out += ':';
        out += std::to_string(models[m].counts[f * kMaxBins + b]);
      }
      out += '}';
    }
    out += '}';
  }
  out += "}}\n";
  return out;
}

std::string writeBaselineFile(const std::string& path, const std::vector<ModelBaseline>& models, const BinSpec& bins) {
  const auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
    out << baselineFileText(models, bins);
    out.flush();
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    std::remove(tmp.c_str());
    return error;
  }
  return {};
}

}  // namespace infergate::profile
