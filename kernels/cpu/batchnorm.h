// BatchNorm2d on the CPU: the reference (templates below, double arithmetic throughout) and the fast f32 path
// (*_fast: vectorised, double only for the per-channel sums; tested against the reference).
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


// The fast f32 path, same contracts. Per-channel sums run in double over 16 explicit lanes (element i of each
// run of HW values goes to lane i mod 16; lanes are added in order at the end), so the result is the same on every
// machine, clone and thread count; the element-wise parts run in float. Channels are spread over threads.
void batchnorm_forward_train_fast(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                  float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                  float* running_mean, float* running_var);
void batchnorm_forward_eval_fast(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                 float eps, const float* running_mean, const float* running_var, float* y);
void batchnorm_backward_fast(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                             bool accumulate_dx, bool accumulate_params);

// The same three on channels-last (NHWC) data: rows of C channel values, N*HW rows. The rows are cut into a fixed
// number of consecutive chunks (whatever the thread count); each chunk sums every channel in row order in double,
// and the chunks' sums are added in chunk order, so results do not depend on the thread count or the clone.
// relu: y = relu(batchnorm(x)) in the same pass (bit for bit what relu_forward after batchnorm gives).
void batchnorm_forward_train_nhwc(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                  float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                  float* running_mean, float* running_var, bool relu = false);
void batchnorm_forward_eval_nhwc(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                 float eps, const float* running_mean, const float* running_var, float* y);
// relu_y: with a ReLU after the BatchNorm, its output; dy is then the ReLU output's gradient (bit for bit what
// relu_backward and then batchnorm_backward give).
void batchnorm_backward_nhwc(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                             bool accumulate_dx, bool accumulate_params, const float* relu_y = nullptr);

// The same on nChw16c data (C a multiple of 16): x[n][c / 16][hw][c % 16]. Statistics: each block of 16 channels
// sums its images in order and each image's rows in order (blocks are shared out over threads), so results do not
// depend on the thread count or the clone.
void batchnorm_forward_train_blocked16(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                       float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                       float* running_mean, float* running_var, bool relu = false);
void batchnorm_forward_eval_blocked16(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                      float eps, const float* running_mean, const float* running_var, float* y);
void batchnorm_backward_blocked16(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                                  const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                                  float* dbeta, bool accumulate_dx, bool accumulate_params,
                                  const float* relu_y = nullptr);

}  // namespace bts::kernels::cpu
