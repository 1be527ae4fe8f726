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

std::vector<std::string> httpsMock(const std::string& name) {
  return {"--tls-cert", testCertDir() + "/" + name + ".crt", "--tls-key", testCertDir() + "/" + name + ".key"};
}

std::string httpsConfig(std::uint16_t port, const std::string& tls, ConfigKnobs k) {
  k.backendExtra += "    tls:\n" + (tls.empty() ? "      ca_file: " + testCertDir() + "/ca.crt\n" : tls);
  auto yaml = standardConfig(port, k);
  const std::string plain = "http://127.0.0.1:" + std::to_string(port);
  yaml.replace(yaml.find(plain), plain.size(), "https://localhost:" + std::to_string(port));
  return yaml;
}

}  // namespace testsupport
