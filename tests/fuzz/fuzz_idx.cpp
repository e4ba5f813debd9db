// libFuzzer target: IDX files, plain or gzip-compressed (the Fashion-MNIST reader's path). Any input must parse
// or throw bts::Error. Built and run by tools/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/file_io.h"
#include "data/idx.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    std::vector<uint8_t> inflated;
    if (bts::is_gzip(data, size)) {
      inflated = bts::gunzip(data, size, "fuzz.gz", size_t(16) << 20);  // a small cap keeps bombs cheap
      data = inflated.data();
      size = inflated.size();
    }
    const bts::IdxArray a = bts::parse_idx(data, size, "fuzz.idx");
    // Touch the first and last element the parser vouches for (ASan flags any overrun).
    volatile uint8_t sink = 0;
    if (a.bytes) sink = static_cast<uint8_t>(a.data[0] ^ a.data[a.bytes - 1]);
    (void)sink;
  } catch (const bts::Error&) {
  }
  return 0;
}
