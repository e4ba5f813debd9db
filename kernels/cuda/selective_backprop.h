// Selective backprop on the GPU: the same results as kernels/cpu/selective_backprop.h. The loss history, the
// decisions and the queue stay on the device; the only host traffic is the selected count of each scoring batch
// (the host must know when 128 are queued to run a training step).
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

void sb_append_history(cudaStream_t s, float* history, int64_t R, int64_t appended, const float* loss, int64_t b);
// Writes slots[0, count) and *count (device); the caller reads the count back.
void sb_select(cudaStream_t s, const float* loss, int64_t b, const float* history, int64_t len, double beta,
               bool prime, uint64_t seed, uint64_t step, int32_t* slots, int32_t* count);
// As the CPU twins; the count of slots to score is written to *count (device).
void sb_split_stale(cudaStream_t s, const int32_t* idx, int64_t b, const float* cached_loss,
                    const int32_t* scored_epoch, int64_t epoch, int64_t staleness, float* loss, int32_t* need,
                    int32_t* count);
void sb_scatter_scores(cudaStream_t s, const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                       int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch);
void gather_rows(cudaStream_t s, const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst);
void gather_rows(cudaStream_t s, const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                 int32_t* dst);

}  // namespace bts::kernels::cuda
