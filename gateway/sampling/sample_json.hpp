#pragma once
// The JSON form of a stored sample: one line of the sink file, one element of
// GET /admin/samples. Label values come from the label space, never the client.
#include <string>

#include "filters/quality/output_sample.hpp"
#include "metrics/label_space.hpp"

namespace infergate {

void appendSampleJson(std::string& out, const StoredSample& sample, const metrics::LabelSpace& labels);

}  // namespace infergate
