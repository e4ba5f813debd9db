// Soft-target, sample-weighted softmax cross-entropy on the GPU; semantics of kernels/cpu/cross_entropy.h.
// The forward also keeps each sample's log-sum-exp (N doubles, as the CPU computes it) for the backward, and writes the weighted total
// to a device scalar (reduced by one block in a fixed order, so it is deterministic). The backward reads
// d(total) from device memory, so the whole step stays on the GPU. Labels must lie in [0, K): an out-of-range
// label makes that sample's loss NaN, which the trainer's NaN guard reports.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

struct CrossEntropyShape {
  int64_t N, K, M;
};

void cross_entropy_forward(cudaStream_t s, const CrossEntropyShape& sh, const float* logits, const int32_t* labels,
                           const float* label_weights, const float* sample_weights, float* loss_per_sample,
                           float* prob_per_target, double* lse, float* total);
void cross_entropy_backward(cudaStream_t s, const CrossEntropyShape& sh, const float* logits, const int32_t* labels,
                            const float* label_weights, const float* sample_weights, const double* lse,
                            const float* dtotal, float* dlogits, bool accumulate);

}  // namespace bts::kernels::cuda
