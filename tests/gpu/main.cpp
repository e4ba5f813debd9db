// GPU suite entry: exits 77 (CTest SKIP_RETURN_CODE) with a one-line reason when no CUDA device answers.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "engine/device.h"

int main(int argc, char** argv) {
  // Listing the suites or cases (tools/gpu_check.sh runs each suite in its own process) needs no device.
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0 || std::strncmp(argv[i], "-lt", 3) == 0 ||
        std::strncmp(argv[i], "-ls", 3) == 0)
      return doctest::Context(argc, argv).run();
  bts::DeviceStatus s = bts::probe_devices();
  if (s.cuda_devices == 0) {
    std::printf("SKIP: GPU tests need a CUDA device (%s)\n", s.description.c_str());
    return 77;
  }
  std::printf("GPU tests on %s\n", s.description.c_str());
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
