// libFuzzer target: core-set files (a selection run's forgetting.bin, read by most_forgotten to pick the N B most
// forgotten samples). Any input must give a subset or be refused with bts::Error. Built and run by tools/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/common/check.h"
#include "train/strategies/coreset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/bts_fuzz_coreset_" + std::to_string(::getpid()) + ".bin";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{1000}}) {
    try {
      const std::vector<int32_t> chosen = bts::most_forgotten(path, k, 7, {});
      if (static_cast<int64_t>(chosen.size()) != k) __builtin_trap();
    } catch (const bts::Error&) {
    }
  }
  return 0;
}
