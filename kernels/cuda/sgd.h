// SGD with momentum over the flat parameter array in one fused kernel; the per-element formula is
// kernels/common/sgd_math.h, shared with the CPU.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/sgd_math.h"

namespace bts::kernels::cuda {

void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* momentum_buf, const SgdHyper& h);

}  // namespace bts::kernels::cuda
