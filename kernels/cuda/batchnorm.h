// BatchNorm2d on the GPU, semantics of kernels/cpu/batchnorm.h: fp32 or bf16 data (T = float, or uint16_t holding
// bf16 bits), NCHW or channels last (NHWC); parameters and statistics are fp32, sums are accumulated in double.
// bf16 is the fp32 kernel between casts: inputs widen exactly, the arithmetic is the fp32 path's, and each output
// rounds once (an accumulating output adds in fp32, then rounds), so the two precisions share one set of formulas.
//
// The per-channel reductions run on a (chunk x channel) grid: each channel's N images are split into chunks of
// whole images, one block per (chunk, channel), so that stage 1's 64 channels still fill the GPU; each block walks
// its chunk with running offsets (no division per element) and writes a partial sum; a per-channel kernel then
// adds the partials in chunk order (deterministic: the same bits every run). Channels-last data is reduced by
// blocks of 32 adjacent channels x 8 rows instead, so a warp reads 32 consecutive values; the rows' partial sums
// are added in a fixed order and land in the same partial layout, so both layouts share the finishing kernels.
// The forward statistics are shifted sums in double (sum of x - K and of (x - K)^2, K the channel's first value):
// one pass over x instead of two, with no cancellation to speak of for fp32 data. The element-wise kernels index
// in 32 bits where the tensor allows.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

struct BatchNormShape {
  int64_t N, C, HW;
  bool channels_last = false;  // x[n][hw][c] instead of x[n][c][hw]
};

// T is taken from x only: relu_y may be a plain nullptr.
template <typename T>
struct BatchNormElement {
  using type = T;
};

// BatchNorm followed by ReLU fuses into the same kernels: `relu` applies it in the forward's output pass, and a
// backward given the ReLU's output `relu_y` masks dy while reading it (no ReLU pass, no BN-output tensor).
// A residual block's end, relu(BatchNorm(x) + z), fuses the same way: the forward given z adds it before the ReLU
// (the BN value rounded to T first: the bits of BatchNorm then add + ReLU), and the backward given relu_y and dz
// also writes the shortcut's gradient (dy where the ReLU passed, 0 elsewhere) in its dx pass.
// Doubles of scratch each call below needs for shape s (partial sums, then the per-channel results).
size_t batchnorm_scratch_doubles(const BatchNormShape& s);

template <typename T>
void batchnorm_forward_train(cudaStream_t st, const BatchNormShape& s, const T* x, const float* gamma,
                             const float* beta, float eps, float momentum, T* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, double* scratch,
                             bool relu = false, const typename BatchNormElement<T>::type* z = nullptr);
template <typename T>
void batchnorm_forward_eval(cudaStream_t st, const BatchNormShape& s, const T* x, const float* gamma,
                            const float* beta, float eps, const float* running_mean, const float* running_var, T* y,
                            double* scratch);
template <typename T>
void batchnorm_backward(cudaStream_t st, const BatchNormShape& s, const T* x, const T* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, T* dx, float* dgamma, float* dbeta,
                        bool accumulate_dx, bool accumulate_params, double* scratch,
                        const typename BatchNormElement<T>::type* relu_y = nullptr,
                        typename BatchNormElement<T>::type* dz = nullptr, bool accumulate_dz = false);

}  // namespace bts::kernels::cuda
