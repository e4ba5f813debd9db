// Forgetting statistics on the GPU (same results as kernels/cpu/forgetting.h); the arrays stay on the device.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

void update_forgetting(cudaStream_t s, const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                       int64_t K, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets);

}  // namespace bts::kernels::cuda
