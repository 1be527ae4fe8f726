#pragma once
// GET /admin/samples?limit=N&flag=X on the admin listener: the most recent
// samples (newest first, optionally only those raising flag X) and each
// scorer's agreement with human feedback.
#include <string_view>

#include "gateway/admin/admin_server.hpp"
#include "gateway/sampling/quality_pipeline.hpp"

namespace infergate {

AdminResponse samplesResponse(const QualityPipeline& pipeline, std::string_view query);

}  // namespace infergate
