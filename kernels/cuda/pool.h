// Global average pooling on the GPU, semantics of kernels/cpu/pool.h: fp32 or bf16 (T = float, or uint16_t holding
// bf16 bits: the fp32 kernel between casts, each output rounded once), NCHW or channels last (x[n][hw][c]).
// y and dy are [N, C] in either layout.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

template <typename T>
void global_avg_pool_forward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const T* x, T* y,
                             bool channels_last = false);
template <typename T>
void global_avg_pool_backward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate,
                              bool channels_last = false);

}  // namespace bts::kernels::cuda
