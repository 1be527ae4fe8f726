// infergate: command line entry point.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "config/loader.hpp"
#include "filters/profile/baseline_file.hpp"
#include "gateway/server/runtime.hpp"
#include "filters/builtin_filters.hpp"
#include "filters/core/log_line.hpp"
#include "gateway/server/file_limits.hpp"
#include "gateway/server/malloc_tuning.hpp"
#include "gateway/server/server.hpp"

namespace {

constexpr const char* kUsage =
    "usage: infergate --config FILE [--check]\n"
    "       infergate --version | --help\n"
    "\n"
    "  --config FILE  YAML configuration (see config/examples/quickstart.yaml)\n"
    "  --check        validate the configuration, print every error, and exit\n"
    "                 (0 when valid, 1 when not)\n"
    "  --version      print the version\n"
    "  --help         print this help\n";

}  // namespace

int main(int argc, char** argv) {
  std::string configPath;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("infergate %s\n", INFERGATE_VERSION);
      return 0;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--config" && i + 1 < argc) {
      configPath = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      configPath = arg.substr(9);
    } else {
      std::fprintf(stderr, "infergate: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (configPath.empty()) {
    std::fprintf(stderr, "infergate: --config FILE is required\n%s", kUsage);
    return 2;
  }

  auto loaded = infergate::config::loadFile(configPath);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "infergate: %zu configuration error(s); not starting\n", loaded.errors.size());
    return 1;
  }
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  infergate::log::setThreshold(static_cast<infergate::log::Level>(loaded.config.log.level));
  std::string error;
  std::vector<std::string> unresolved;
  auto runtime = infergate::buildRuntime(std::move(loaded.config), error, check ? &unresolved : nullptr);
  for (const auto& why : unresolved)
    std::fprintf(stderr, "warning: %s (not resolvable here; the gateway must resolve it where it starts)\n", why.c_str());
  if (!runtime) {
    std::fprintf(stderr, "%s: %s\n", configPath.c_str(), error.c_str());
    return 1;
  }
  if (check) {
    // The drift baseline file is read at start; a file the gateway would refuse fails the check too.
    const auto& drift = runtime->config.drift;
    if (drift.enabled && !drift.baseline_file.empty()) {
      const auto file =
          infergate::profile::readBaselineFile(drift.baseline_file, infergate::profile::BinSpec(runtime->config.profile));
      if (!file.ok()) {
        std::fprintf(stderr, "%s: drift baseline %s: %s\n", configPath.c_str(), drift.baseline_file.c_str(),
                     file.error.c_str());
        return 1;
      }
    }
    std::printf("%s: configuration is valid (%zu backends, %zu routes)\n", configPath.c_str(),
                runtime->config.backends.size(), runtime->config.routes.size());
    return 0;
  }

  try {
    infergate::tuneMalloc();
    const auto openFiles = infergate::raiseOpenFilesLimit();
    infergate::log::write(infergate::log::Level::Info,
                          infergate::log::Fields()
                              .add("open_files", openFiles)
                              .add("streams", infergate::streamsAllowedBy(openFiles)),
                          "open-files limit: each stream holds two descriptors (client and upstream)");
    infergate::Server server(runtime, infergate::builtinFilters());
    server.start();
    auto proxy = server.proxyEndpoint();
    auto admin = server.adminEndpoint();
    // Tests and scripts wait for this line; keep its shape stable.
    std::printf("infergate %s listening on %s:%u admin %s:%u workers %u\n", INFERGATE_VERSION,
                proxy.address().to_string().c_str(), proxy.port(), admin.address().to_string().c_str(), admin.port(),
                server.workerCount());
    if (const auto tls = server.tlsEndpoint())
      std::printf("infergate https listening on %s:%u\n", tls->address().to_string().c_str(), tls->port());
    std::fflush(stdout);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "infergate: cannot start: %s\n", e.what());
    return 1;
  }
}
