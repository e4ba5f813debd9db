// Global average pooling on the GPU, semantics of kernels/cpu/pool.h.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

void global_avg_pool_forward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const float* x, float* y);
void global_avg_pool_backward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const float* dy, float* dx,
                              bool accumulate);

}  // namespace bts::kernels::cuda
