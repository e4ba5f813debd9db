// Host-side random stream over Philox4x32-10: stream i of seed s is reproducible on any machine.
#pragma once
#include <cstdint>

#include "kernels/common/philox.h"

namespace bts {

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0) : seed_(seed), stream_(stream) {}
  uint32_t next_u32();
  double uniform();                 // (0, 1]
  double normal();                  // standard normal (Box-Muller)
  uint64_t below(uint64_t n);       // uniform integer in [0, n)
  // State, for checkpoints.
  uint64_t counter() const { return counter_; }
  void set_counter(uint64_t c) { counter_ = c; have_block_ = 0; }

 private:
  uint64_t seed_, stream_;
  uint64_t counter_ = 0;
  kernels::Philox4 block_{};
  int have_block_ = 0;
};

}  // namespace bts
