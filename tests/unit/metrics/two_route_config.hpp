#pragma once
// A config whose label space has every kind of value: two backends (one with
// two endpoints), two routes sharing a model, a glob, and an extra model label.
#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace infergate::testing {

inline config::Config twoRouteConfig() {
  auto r = config::loadString(
      "metrics:\n  model_labels: [extra]\n"
      "backends:\n  - name: a\n    endpoints: [{url: 'http://127.0.0.1:1'}, {url: 'http://127.0.0.1:2'}]\n"
      "  - name: b\n    endpoints: [{url: 'http://127.0.0.1:3'}]\n"
      "routes:\n  - name: r1\n    models: [gpt-4o, 'llama-*']\n    backend: a\n"
      "  - name: r2\n    models: [gpt-4o, mistral]\n    backend: b\n",
      "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
  return r.config;
}

}  // namespace infergate::testing
