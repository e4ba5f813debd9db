// libFuzzer target: the packed image file (mini-ImageNet). Any input must parse or throw bts::Error.
// Built and run by tools/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "data/packed_file.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    bts::PackedContents c = bts::parse_packed(data, size, "fuzz.bin");
    if (bts::packed_file_bytes(c.header) != size) __builtin_trap();
  } catch (const bts::Error&) {
  }
  return 0;
}
