// GPU side of kernels/cpu/sampling.h: the same results, computed where the data lives.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

// The scratch the epoch draws need for n samples (random_order's and weighted_order's keys and sort, and
// importance_weights' reductions): one size for all three, so the backend's scratch grows once, in the first epoch.
size_t epoch_draw_scratch_bytes(int64_t n);
// Where the sort's scratch starts inside it (the n 8-byte keys come first).
size_t epoch_draw_key_bytes(int64_t n);
// A stable radix sort of the permutation keys (ties by index, as the CPU's stable_sort), on `scratch`
// (epoch_draw_scratch_bytes(n) bytes): no allocation, no host wait.
void random_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, int32_t* order, void* scratch,
                  size_t scratch_bytes);
void add_counts(cudaStream_t s, const int32_t* idx, int64_t b, int32_t* counts, const float* weights = nullptr);
void accumulate_batch_stats(cudaStream_t s, const float* logits, const float* loss, const int32_t* labels, int64_t N,
                            int64_t K, int64_t M, double* stats);

}  // namespace bts::kernels::cuda
