#include "engine/rng.h"

#include <cmath>

namespace bts {

uint32_t Rng::next_u32() {
  if (have_block_ == 0) {
    block_ = kernels::philox4x32_10(static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32),
                                    static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32), seed_);
    ++counter_;
    have_block_ = 4;
  }
  return block_.v[4 - have_block_--];
}

double Rng::uniform() {
  uint32_t a = next_u32(), b = next_u32();
  return kernels::uniform_open0(a, b);
}

double Rng::normal() {
  const double u1 = uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

uint64_t Rng::below(uint64_t n) {
  // Rejection sampling removes modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t x = (static_cast<uint64_t>(next_u32()) << 32) | next_u32();
    if (x < limit) return x % n;
  }
}

}  // namespace bts
