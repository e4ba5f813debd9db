// p-SGD/c-SGD on the GPU: the same results as kernels/cpu/importance.h, with the per-sample statistics kept in
// device arrays (nothing crosses to the host: the reductions (seen count, max, mean) run in one block in a fixed
// order and stay on the device for the kernels after them).
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/importance.h"

namespace bts::kernels::cuda {

void update_importance_stats(cudaStream_t s, const int32_t* idx, const float* prob, const float* label_weights,
                             const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                             float* last_p);
// scratch: epoch_draw_scratch_bytes(n) bytes (kernels/cuda/sampling.h); its first 256 bytes hold the reductions.
void importance_weights(cudaStream_t s, int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                        ImportanceKind kind, bool averaging, bool use_eps, double* w, void* scratch,
                        size_t scratch_bytes);
// scratch: epoch_draw_scratch_bytes(n) bytes.
void weighted_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order,
                    void* scratch, size_t scratch_bytes);

void top_q_weights(cudaStream_t s, const float* loss, int64_t b, int64_t q, float* weights);

}  // namespace bts::kernels::cuda
