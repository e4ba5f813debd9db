// SGD with momentum over the flat parameter array in one fused kernel; the per-element formula is
// kernels/common/sgd_math.h, shared with the CPU.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/sgd_math.h"

namespace bts::kernels::cuda {

// lr: device memory, read when the kernel runs (a recorded step keeps following the schedule); the host sets it
// with write_bytes (kernels/cuda/stream_write.h).
void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* momentum_buf, const double* lr,
              const SgdHyper& h);

}  // namespace bts::kernels::cuda
