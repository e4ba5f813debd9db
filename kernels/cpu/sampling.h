// CPU twins of the samplers' GPU work: random orders, presentation counts, and the per-batch training
// statistics (loss sum, correct count) accumulated without leaving the device on the GPU.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

// order[0..n) = a uniformly random permutation of 0..n-1 for (seed, epoch) (kernels/common/sampling.h).
void random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order);
// counts[idx[j]] += 1 for j < b (only where weights[j] > 0 when weights is given: OSGD backprops its top q).
void add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights = nullptr);
// stats[0] += sum_i loss[i]; stats[1] += #{i : argmax_k logits[i] == labels[i * M]} (first target label;
// ties go to the lowest class, as torch.argmax does).
void accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t N, int64_t K,
                            int64_t M, double* stats);

}  // namespace bts::kernels::cpu
