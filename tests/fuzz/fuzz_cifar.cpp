// libFuzzer target: CIFAR-10 and CIFAR-100 record files. Any input must either decode or throw bts::Error;
// a crash, sanitizer report, hang or other exception is a finding. Built and run by tools/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "data/cifar.h"
#include "kernels/common/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bts::CifarKind kind : {bts::CifarKind::Cifar10, bts::CifarKind::Cifar100}) {
    try {
      bts::ImageSet s = bts::parse_cifar(data, size, "fuzz.bin", kind);
      if (s.size() != static_cast<int64_t>(size) / bts::cifar_record_bytes(kind)) __builtin_trap();
    } catch (const bts::Error&) {
    }
  }
  return 0;
}
