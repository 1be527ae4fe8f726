#pragma once
// The certificates TLS tests use (tests/support/make_test_certs.sh: a test CA;
// server, wrong-host, expired, self-signed and client certificates), made once
// per test process in a directory removed when it exits.
#include <string>

namespace testsupport {

const std::string& testCertDir();

}  // namespace testsupport
