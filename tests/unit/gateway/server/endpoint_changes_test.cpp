#include "gateway/server/endpoint_changes.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "metrics/label_space.hpp"

using namespace infergate;

namespace {

// A runtime for backend "b" with these ports, ids placed as a reload places them.
std::shared_ptr<const Runtime> withPorts(const std::string& ports, metrics::LabelSpace* labels) {
  std::string endpoints;
  for (char p : ports) endpoints += std::string(endpoints.empty() ? "" : ", ") + "{url: 'http://127.0.0.1:" + p + "'}";
  auto r = config::loadString("backends:\n  - name: b\n    endpoints: [" + endpoints + "]\nroutes:\n  - name: r\n    backend: b\n",
                              "t.yaml");
  EXPECT_TRUE(r.ok());
  std::string error;
  EndpointPlacer place;
  if (labels)
    place = [labels](std::size_t b, const std::string& name) -> std::optional<std::size_t> {
      return *labels->placeEndpoint(metrics::LabelSpace::backendIndex(b), name) - 1;
    };
  auto runtime = buildRuntime(r.config, error, nullptr, place);
  EXPECT_TRUE(runtime) << error;
  return runtime;
}

}  // namespace

TEST(EndpointChanges, NamesWhatCameAndWhatWentWhateverTheirIds) {
  const auto start = withPorts("12", nullptr);
  metrics::LabelSpace labels(start->config);
  const auto fewer = withPorts("1", &labels);  // the highest id goes: this runtime's ids stop below it
  EXPECT_EQ(fewer->endpointCount, 1u);
  auto changes = endpointChanges(*start, *fewer);
  EXPECT_EQ(changes.added, "");
  EXPECT_EQ(changes.removed, " b/127.0.0.1:2");
  const auto other = withPorts("23", &labels);
  changes = endpointChanges(*fewer, *other);
  EXPECT_EQ(changes.added, " b/127.0.0.1:2 b/127.0.0.1:3");
  EXPECT_EQ(changes.removed, " b/127.0.0.1:1");
  EXPECT_EQ(other->backends[0].endpoints[0].id, 1u);  // :2 kept its id
}
