// GPU suite entry: exits 77 (CTest SKIP_RETURN_CODE) with a one-line reason when no CUDA device answers.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "engine/device.h"

int main(int argc, char** argv) {
  bts::DeviceStatus s = bts::probe_devices();
  if (s.cuda_devices == 0) {
    std::printf("SKIP: GPU tests need a CUDA device (%s)\n", s.description.c_str());
    return 77;
  }
  std::printf("GPU tests on %s\n", s.description.c_str());
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
