#pragma once
// A property a fuzz target checks: on failure, say which and stop (libFuzzer
// saves the input that broke it).
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, ...)                                           \
  do {                                                                       \
    if (!(condition)) {                                                      \
      std::fprintf(stderr, "property failed: %s: ", #condition);             \
      std::fprintf(stderr, __VA_ARGS__);                                     \
      std::fprintf(stderr, "\n");                                            \
      std::abort();                                                          \
    }                                                                        \
  } while (0)
