// Selective backprop (Jiang et al. 2019; METHODS.md), the per-sample decision shared by the CPU twin and the
// CUDA kernel: after a scoring batch's losses are appended to the loss history, sample i is selected for backprop
// iff u_i < P_i with P_i = (fraction of the history strictly below L_i)^beta. u_i comes from Philox keyed on
// (seed, scoring step, slot), so both sides make the same decisions.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/hd.h"
#include "kernels/common/philox.h"

namespace bts::kernels {

constexpr uint32_t kSelectiveBackpropStream = 0x53427031u;  // "SBp1": its own Philox stream
// Largest scoring batch: the GPU's selection kernels keep one int per slot in shared memory, and 8192 of them are
// 32 KiB, within the 48 KiB a block gets without opting in.
constexpr int64_t kSbMaxBatch = 8192;

// Fraction of history[0, len) strictly below `loss` (len >= 1).
BTS_HD double sb_percentile(const float* history, int64_t len, float loss) {
  int64_t below = 0;
  for (int64_t k = 0; k < len; ++k) below += history[k] < loss;
  return static_cast<double>(below) / static_cast<double>(len);
}

// P = percentile^beta (0^0 = 1: beta 0 keeps everything). Not a bit-for-bit twin: the device's pow and glibc's may
// differ in the last bit, which changes a decision u < P only when u lies within an ulp of P (about 1e-16 per
// sample); the GPU tests compare decisions (which samples are kept), not probabilities.
BTS_HD double sb_select_probability(double percentile, double beta) {
  return beta == 0 ? 1.0 : pow(percentile, beta);
}

// u in [0, 1) for slot `slot` of scoring step `step`.
BTS_HD double sb_uniform(uint64_t seed, uint64_t step, uint32_t slot) {
  const Philox4 r = philox4x32_10(slot, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32),
                                  kSelectiveBackpropStream, seed);
  return 1.0 - uniform_open0(r.v[0], r.v[1]);
}

// Staleness variant: a sample's cached loss is reused while it is at most `staleness` epochs old. Never-scored
// samples carry kNeverScored.
constexpr int32_t kNeverScored = -1000000000;
BTS_HD bool sb_loss_is_fresh(int32_t scored_epoch, int64_t epoch, int64_t staleness) {
  return scored_epoch != kNeverScored && epoch - scored_epoch <= staleness;
}

// The decision for one sample; `prime` selects everything (the primed first epochs).
BTS_HD bool sb_selected(const float* history, int64_t len, float loss, double beta, bool prime, uint64_t seed,
                        uint64_t step, uint32_t slot) {
  if (prime) return true;
  return sb_uniform(seed, step, slot) < sb_select_probability(sb_percentile(history, len, loss), beta);
}

}  // namespace bts::kernels
