// libFuzzer target: SVHN .mat files through libmatio (which reads only from files, so each input is written to
// a per-process scratch file first). Any input must load or throw bts::Error. Built and run by tools/fuzz.sh.
// A crash inside libmatio itself is reported as such by the script (it is not our code to fix, but it decides
// whether malformed .mat files can take the trainer down).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/svhn.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/bts_fuzz_svhn_" + std::to_string(::getpid()) + ".mat";
  static const int cleanup = std::atexit([] { std::remove(path.c_str()); });
  (void)cleanup;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    bts::ImageSet s = bts::read_svhn_mat(path);
    (void)s;
  } catch (const bts::Error&) {
  }
  return 0;
}
