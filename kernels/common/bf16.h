// bfloat16: the top 16 bits of an IEEE fp32 (8 exponent bits, 7 explicit mantissa bits). The CPU reference and the
// CUDA kernels convert with these same functions, so a bf16 tensor holds the same bits on both sides:
// fp32 -> bf16 rounds to nearest, ties to even (what cuDNN, cuBLAS and __float2bfloat16_rn store); NaN stays NaN
// (quiet); bf16 -> fp32 is exact.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/common/hd.h"

namespace bts::kernels {

BTS_HD uint32_t f32_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}

BTS_HD float f32_from_bits(uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#else
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}

BTS_HD uint16_t bf16_round(float x) {
  const uint32_t b = f32_bits(x);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0)  // NaN: keep the sign, force a quiet payload
    return static_cast<uint16_t>((b >> 16) | 0x0040u);
  // Round half to even on the 16 dropped bits: add 0x7fff plus the lowest kept bit, then truncate. Overflow past
  // the largest finite value carries into the exponent and gives infinity, as IEEE rounding does.
  const uint32_t lsb = (b >> 16) & 1u;
  return static_cast<uint16_t>((b + 0x7fffu + lsb) >> 16);
}

BTS_HD float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

// x rounded to the nearest bf16 value, as fp32.
BTS_HD float round_to_bf16(float x) { return bf16_to_f32(bf16_round(x)); }

}  // namespace bts::kernels
