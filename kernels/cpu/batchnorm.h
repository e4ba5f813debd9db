// BatchNorm2d on the CPU (reference; also the production CPU path: it is memory-bound and already linear).
// Statistics are per channel over N*H*W. Training normalises with the biased batch variance and updates the
// running estimates PyTorch's way: running = (1 - momentum) * running + momentum * batch, with the unbiased
// variance. save_mean/save_invstd keep what backward needs.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

struct BatchNormShape {
  int64_t N, C, HW;
};

template <typename T>
void batchnorm_forward_train(const BatchNormShape& s, const T* x, const T* gamma, const T* beta, T eps, T momentum,
                             T* y, T* save_mean, T* save_invstd, T* running_mean, T* running_var);
template <typename T>
void batchnorm_forward_eval(const BatchNormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                            const T* running_mean, const T* running_var, T* y);
// dgamma/dbeta are overwritten unless accumulate_params; dx is overwritten unless accumulate_dx.
template <typename T>
void batchnorm_backward(const BatchNormShape& s, const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta, bool accumulate_dx, bool accumulate_params);

}  // namespace bts::kernels::cpu
