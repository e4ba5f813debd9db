// GPU side of kernels/cpu/sampling.h: the same results, computed where the data lives.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

// keys: n uint64 of scratch. Sorts with Thrust (stable radix sort: ties by index, as the CPU's stable_sort).
void random_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, uint64_t* keys, int32_t* order);
void add_counts(cudaStream_t s, const int32_t* idx, int64_t b, int32_t* counts, const float* weights = nullptr);
void accumulate_batch_stats(cudaStream_t s, const float* logits, const float* loss, const int32_t* labels, int64_t N,
                            int64_t K, int64_t M, double* stats);

}  // namespace bts::kernels::cuda
