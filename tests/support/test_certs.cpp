#include "support/test_certs.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace testsupport {

const std::string& testCertDir() {
  static const std::string dir = [] {
    const std::string d = "/tmp/infergate-test-certs-" + std::to_string(::getpid());
    const std::string command = "bash " + std::string(TEST_SOURCE_DIR) + "/support/make_test_certs.sh " + d + " >/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("make_test_certs.sh failed");
    return d;
  }();
  static const bool registered = [] {
    std::atexit([] { std::filesystem::remove_all(dir); });
    return true;
  }();
  (void)registered;
  return dir;
}

}  // namespace testsupport
