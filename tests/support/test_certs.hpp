#pragma once
// The certificates TLS tests use (tests/support/make_test_certs.sh: a test CA;
// server, wrong-host, expired, self-signed and client certificates), made once
// per test process in a directory removed when it exits.
#include <string>
#include <vector>

#include "support/fixtures.hpp"

namespace testsupport {

const std::string& testCertDir();

// The mock's arguments for HTTPS with the certificate `name` (server, wronghost...).
std::vector<std::string> httpsMock(const std::string& name);

// The standard config with the mock as https://localhost:PORT, verified
// against the test CA unless `tls` (YAML lines under the backend's tls:) says otherwise.
std::string httpsConfig(std::uint16_t port, const std::string& tls = "", ConfigKnobs k = {});

}  // namespace testsupport
