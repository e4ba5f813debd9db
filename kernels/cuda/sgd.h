// SGD with momentum over the flat parameter array in one fused kernel; the per-element formula is
// kernels/common/sgd_math.h, shared with the CPU.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/sgd_math.h"

namespace bts::kernels::cuda {

// lr: device memory, read when the kernel runs (a recorded step keeps following the schedule).
void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* momentum_buf, const double* lr,
              const SgdHyper& h);
// Writes `value` to the device word `dst` in stream order: no host wait, no pageable copy (the learning rate
// before each step).
void write_f64(cudaStream_t s, double* dst, double value);

}  // namespace bts::kernels::cuda
