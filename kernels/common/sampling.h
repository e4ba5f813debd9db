// Random orders for the samplers, shared by the CPU twin and the GPU: sample i of epoch e gets a 64-bit key
// from Philox(seed; i, epoch); sorting the keys ascending (stable, ties by index) gives a uniformly random
// permutation, and its first k entries a uniform draw of k samples without replacement.
#pragma once
#include <cstdint>

#include "kernels/common/philox.h"

namespace bts::kernels {

constexpr uint32_t kPermutationStream = 0x5350524Du;  // distinguishes these draws from augmentation's

BTS_HD uint64_t permutation_key(uint64_t seed, uint64_t epoch, uint64_t i) {
  const Philox4 r = philox4x32_10(static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                                  static_cast<uint32_t>(epoch), kPermutationStream, seed);
  return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
}

}  // namespace bts::kernels
