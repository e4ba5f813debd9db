// Philox4x32-10 (Salmon et al., SC'11), a counter-based generator: the same (key, counter) gives the same
// numbers on the CPU and in a CUDA kernel, which is what lets CPU twins reproduce GPU random draws exactly.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/hd.h"

namespace bts::kernels {

struct Philox4 {
  uint32_t v[4];
};

BTS_HD uint32_t philox_mulhi(uint32_t a, uint32_t b, uint32_t* lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *lo = static_cast<uint32_t>(p);
  return static_cast<uint32_t>(p >> 32);
}

// One block of four 32-bit random words for counter (c0..c3) under a 64-bit key.
BTS_HD Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint64_t key) {
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t lo0, lo1;
    uint32_t hi0 = philox_mulhi(0xD2511F53u, c0, &lo0);
    uint32_t hi1 = philox_mulhi(0xCD9E8D57u, c2, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: never 0, so log(u) is finite.
BTS_HD double uniform_open0(uint32_t a, uint32_t b) {
  uint64_t x = (static_cast<uint64_t>(a) << 21) ^ static_cast<uint64_t>(b >> 11);  // 53 random bits
  x &= (uint64_t(1) << 53) - 1;
  return (static_cast<double>(x) + 1.0) * (1.0 / 9007199254740992.0);
}

}  // namespace bts::kernels
