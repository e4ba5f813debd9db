// BatchNorm2d on the GPU (fp32 data, statistics accumulated in double), semantics of kernels/cpu/batchnorm.h.
// Training forward needs 2*C doubles of scratch (each channel's mean and 1/std, which normalise in double as on
// the CPU); backward 2*C doubles too (the per-channel sums of dy and dy*xhat, kept in double as the CPU does).
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

struct BatchNormShape {
  int64_t N, C, HW;
};

void batchnorm_forward_train(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, float eps, float momentum, float* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, double* scratch_2c);
void batchnorm_forward_eval(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                            const float* beta, float eps, const float* running_mean, const float* running_var,
                            float* y);
void batchnorm_backward(cudaStream_t st, const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                        bool accumulate_dx, bool accumulate_params, double* scratch_2c);

}  // namespace bts::kernels::cuda
