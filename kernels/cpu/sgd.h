// SGD with momentum over one flat parameter array (all of a model's parameters live in one buffer, so one
// call updates the whole model). Formula in kernels/common/sgd_math.h, shared with the CUDA kernel.
#pragma once
#include <cstdint>

#include "kernels/common/sgd_math.h"

namespace bts::kernels::cpu {

// lr: the learning rate, read when the step runs.
template <typename T>
void sgd_step(int64_t n, T* w, const T* g, T* momentum_buf, const double* lr, const SgdHyper& h);

}  // namespace bts::kernels::cpu
