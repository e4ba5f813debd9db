#include <algorithm>
#include <cmath>

#include "kernels/common/channel_chunks.h"
#include "kernels/common/rounded.h"
#include "kernels/common/check.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {

constexpr int kReduceThreads = 256;

// Chunks per channel: enough (chunk x channel) blocks to cover every SM about twice, whole images per chunk, and
// at least 4,096 elements per block so a block's fixed cost stays small.
int64_t chunks_per_channel(const BatchNormShape& s) {
  const int64_t want = (2 * static_cast<int64_t>(multiprocessor_count()) + s.C - 1) / s.C;
  const int64_t by_size = std::max<int64_t>(1, s.N * s.HW / 4096);
  return std::max<int64_t>(1, std::min({want, s.N, by_size}));
}

__device__ double block_sum(double v, double* shared) { return block_reduce(v, shared, Sum()); }

// This thread's elements of channel c in chunk p (kernels/common/channel_chunks.h: no division per element).
template <typename F>
__device__ void for_each_in_chunk(const BatchNormShape& s, int64_t chunks, int64_t p, int64_t c, F&& f) {
  int64_t n0, n1;
  chunk_images(s.N, chunks, p, &n0, &n1);
  walk_channel_chunk(s.C, s.HW, c, n0, n1, threadIdx.x, blockDim.x, f);
}

// Block (p, c): the shifted sums of chunk p of channel c -> partial[(c * P + p) * 2 + {0, 1}].
__global__ void bn_stats_partial_kernel(BatchNormShape s, int64_t chunks, const float* x, double* partial) {
  __shared__ double shared[kReduceThreads];
  const int64_t p = blockIdx.x, c = blockIdx.y;
  const double K = x[c * s.HW];  // image 0's first value of channel c: the same shift in every chunk
  double s1 = 0, s2 = 0;
  for_each_in_chunk(s, chunks, p, c, [&](int64_t off) {
    const double d = static_cast<double>(x[off]) - K;
    s1 += d;
    s2 += d * d;
  });
  s1 = block_sum(s1, shared);
  s2 = block_sum(s2, shared);
  if (threadIdx.x == 0) {
    partial[(c * chunks + p) * 2] = s1;
    partial[(c * chunks + p) * 2 + 1] = s2;
  }
}

// One thread per channel: the partials in chunk order, then the statistics (as the CPU's: biased variance for
// normalising, unbiased for the running estimate). stats_2c = {mean[C], invstd[C]} for the apply kernel.
__global__ void bn_stats_finish_kernel(BatchNormShape s, int64_t chunks, const float* x, const double* partial,
                                       float eps, float momentum, float* save_mean, float* save_invstd,
                                       float* running_mean, float* running_var, double* stats_2c) {
  BTS_GRID_STRIDE(c, s.C) {
    double s1 = 0, s2 = 0;
    for (int64_t p = 0; p < chunks; ++p) {
      s1 += partial[(c * chunks + p) * 2];
      s2 += partial[(c * chunks + p) * 2 + 1];
    }
    const double M = static_cast<double>(s.N * s.HW);
    const double K = x[c * s.HW];
    const double mean = K + s1 / M;
    const double sq = fmax(0.0, s2 - s1 * (s1 / M));  // sum of (x - mean)^2
    const double var = sq / M;
    const double invstd = 1.0 / sqrt(var + static_cast<double>(eps));
    stats_2c[c] = mean;
    stats_2c[s.C + c] = invstd;
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    const double unbiased = M > 1 ? sq / (M - 1) : var;
    const double keep = 1.0 - static_cast<double>(momentum), mom = momentum;
    running_mean[c] = static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_mean[c])), mul_rn(mom, mean)));
    running_var[c] =
        static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_var[c])), mul_rn(mom, unbiased)));
  }
}

// The element-wise kernels: channel of element i = (i / HW) % C, in 32-bit arithmetic when the tensor allows
// (Index = uint32_t), else 64-bit.
// With relu, the ReLU after the BatchNorm in the same pass (on the float result: the bits of BN then ReLU).
template <typename Index>
__global__ void bn_apply_kernel(Index n, Index HW, Index C, const float* x, const double* stats_2c,
                                const float* gamma, const float* beta, bool relu, float* y) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = (i / HW) % C;
    const double xhat = mul_rn(static_cast<double>(x[i]) - stats_2c[c], stats_2c[C + c]);
    const float v =
        static_cast<float>(add_rn(mul_rn(xhat, static_cast<double>(gamma[c])), static_cast<double>(beta[c])));
    y[i] = relu && !(v > 0.f) ? 0.f : v;
  }
}

// The gradient reaching the BatchNorm: dy itself, or, when a ReLU followed it (relu_y = the ReLU's output), dy
// where the ReLU passed its input and 0 where it did not: the ReLU's backward, folded into the reads.
__device__ __forceinline__ float bn_upstream(const float* dy, const float* relu_y, int64_t i) {
  return relu_y == nullptr || relu_y[i] > 0.f ? dy[i] : 0.f;
}

// Eval mode: each channel's scale and shift once (not per element), as the CPU computes them.
__global__ void bn_eval_coefficients_kernel(int64_t C, const float* gamma, const float* beta, float eps,
                                            const float* running_mean, const float* running_var, double* coef_2c) {
  BTS_GRID_STRIDE(c, C) {
    const double invstd = 1.0 / sqrt(static_cast<double>(running_var[c]) + static_cast<double>(eps));
    const double scale = mul_rn(static_cast<double>(gamma[c]), invstd);
    coef_2c[c] = scale;
    coef_2c[C + c] = add_rn(static_cast<double>(beta[c]), -mul_rn(static_cast<double>(running_mean[c]), scale));
  }
}

template <typename Index>
__global__ void bn_eval_kernel(Index n, Index HW, Index C, const float* x, const double* coef_2c, float* y) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = (i / HW) % C;
    y[i] = static_cast<float>(add_rn(mul_rn(static_cast<double>(x[i]), coef_2c[c]), coef_2c[C + c]));
  }
}

// Block (p, c): chunk p's sums of dy and dy * xhat -> partial.
__global__ void bn_backward_partial_kernel(BatchNormShape s, int64_t chunks, const float* x, const float* dy,
                                           const float* relu_y, const float* mean, const float* invstd,
                                           double* partial) {
  __shared__ double shared[kReduceThreads];
  const int64_t p = blockIdx.x, c = blockIdx.y;
  const double m = mean[c], is = invstd[c];
  double sdy = 0, sdyx = 0;
  for_each_in_chunk(s, chunks, p, c, [&](int64_t off) {
    const float g = bn_upstream(dy, relu_y, off);
    sdy += g;
    sdyx += g * (x[off] - m) * is;
  });
  sdy = block_sum(sdy, shared);
  sdyx = block_sum(sdyx, shared);
  if (threadIdx.x == 0) {
    partial[(c * chunks + p) * 2] = sdy;
    partial[(c * chunks + p) * 2 + 1] = sdyx;
  }
}

__global__ void bn_backward_finish_kernel(BatchNormShape s, int64_t chunks, const double* partial, float* dgamma,
                                          float* dbeta, bool accumulate, double* sums_2c) {
  BTS_GRID_STRIDE(c, s.C) {
    double sdy = 0, sdyx = 0;
    for (int64_t p = 0; p < chunks; ++p) {
      sdy += partial[(c * chunks + p) * 2];
      sdyx += partial[(c * chunks + p) * 2 + 1];
    }
    sums_2c[c] = sdy;
    sums_2c[s.C + c] = sdyx;
    dgamma[c] = static_cast<float>(accumulate ? dgamma[c] + sdyx : sdyx);
    dbeta[c] = static_cast<float>(accumulate ? dbeta[c] + sdy : sdy);
  }
}

template <typename Index>
__global__ void bn_backward_dx_kernel(Index n, Index HW, Index C, double M, const float* x, const float* dy,
                                      const float* relu_y, const float* gamma, const float* mean,
                                      const float* invstd, const double* sums_2c, float* dx, bool accumulate) {
  for (Index i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const Index c = (i / HW) % C;
    const double xhat = (x[i] - static_cast<double>(mean[c])) * invstd[c];
    const double k = static_cast<double>(gamma[c]) * invstd[c] / M;
    const float g = bn_upstream(dy, relu_y, static_cast<int64_t>(i));
    const float v = static_cast<float>(k * (M * g - sums_2c[c] - xhat * sums_2c[C + c]));
    dx[i] = accumulate ? dx[i] + v : v;
  }
}

// The reductions put channels on gridDim.y.
void check_channels(const BatchNormShape& s) {
  BTS_CHECK(s.C >= 1 && s.C <= 65535, "BatchNorm over " << s.C << " channels: the GPU kernels take 1 to 65,535");
}

bool fits_32_bits(const BatchNormShape& s) {
  // i + gridDim * blockDim must not wrap either: leave a grid's worth of headroom.
  return s.N * s.C * s.HW + int64_t{kThreads} * grid_for(s.N * s.C * s.HW) < (int64_t{1} << 32);
}

}  // namespace

size_t batchnorm_scratch_doubles(const BatchNormShape& s) {
  return static_cast<size_t>(2 * s.C * chunks_per_channel(s) + 2 * s.C);
}

void batchnorm_forward_train(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, float eps, float momentum, float* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, double* scratch,
                             bool relu) {
  check_channels(s);
  const int64_t P = chunks_per_channel(s), n = s.N * s.C * s.HW;
  double* partial = scratch;
  double* stats_2c = scratch + 2 * s.C * P;
  bn_stats_partial_kernel<<<dim3(static_cast<unsigned>(P), static_cast<unsigned>(s.C)), kReduceThreads, 0, st>>>(
      s, P, x, partial);
  BTS_CUDA_LAUNCH_CHECK("bn_stats_partial");
  bn_stats_finish_kernel<<<grid_for(s.C), kThreads, 0, st>>>(s, P, x, partial, eps, momentum, save_mean, save_invstd,
                                                             running_mean, running_var, stats_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_stats_finish");
  if (fits_32_bits(s))
    bn_apply_kernel<uint32_t><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<uint32_t>(n), static_cast<uint32_t>(s.HW), static_cast<uint32_t>(s.C), x, stats_2c, gamma, beta,
        relu, y);
  else
    bn_apply_kernel<uint64_t><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<uint64_t>(n), static_cast<uint64_t>(s.HW), static_cast<uint64_t>(s.C), x, stats_2c, gamma, beta,
        relu, y);
  BTS_CUDA_LAUNCH_CHECK("bn_apply");
}

void batchnorm_forward_eval(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                            const float* beta, float eps, const float* running_mean, const float* running_var,
                            float* y, double* scratch) {
  const int64_t n = s.N * s.C * s.HW;
  bn_eval_coefficients_kernel<<<grid_for(s.C), kThreads, 0, st>>>(s.C, gamma, beta, eps, running_mean, running_var,
                                                                  scratch);
  BTS_CUDA_LAUNCH_CHECK("bn_eval_coefficients");
  if (fits_32_bits(s))
    bn_eval_kernel<uint32_t><<<grid_for(n), kThreads, 0, st>>>(static_cast<uint32_t>(n), static_cast<uint32_t>(s.HW),
                                                               static_cast<uint32_t>(s.C), x, scratch, y);
  else
    bn_eval_kernel<uint64_t><<<grid_for(n), kThreads, 0, st>>>(static_cast<uint64_t>(n), static_cast<uint64_t>(s.HW),
                                                               static_cast<uint64_t>(s.C), x, scratch, y);
  BTS_CUDA_LAUNCH_CHECK("bn_eval");
}

void batchnorm_backward(cudaStream_t st, const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                        bool accumulate_dx, bool accumulate_params, double* scratch, const float* relu_y) {
  check_channels(s);
  const int64_t P = chunks_per_channel(s), n = s.N * s.C * s.HW;
  double* partial = scratch;
  double* sums_2c = scratch + 2 * s.C * P;
  bn_backward_partial_kernel<<<dim3(static_cast<unsigned>(P), static_cast<unsigned>(s.C)), kReduceThreads, 0, st>>>(
      s, P, x, dy, relu_y, save_mean, save_invstd, partial);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_partial");
  bn_backward_finish_kernel<<<grid_for(s.C), kThreads, 0, st>>>(s, P, partial, dgamma, dbeta, accumulate_params,
                                                                sums_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_finish");
  const double M = static_cast<double>(s.N * s.HW);
  if (fits_32_bits(s))
    bn_backward_dx_kernel<uint32_t><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<uint32_t>(n), static_cast<uint32_t>(s.HW), static_cast<uint32_t>(s.C), M, x, dy, relu_y, gamma,
        save_mean, save_invstd, sums_2c, dx, accumulate_dx);
  else
    bn_backward_dx_kernel<uint64_t><<<grid_for(n), kThreads, 0, st>>>(
        static_cast<uint64_t>(n), static_cast<uint64_t>(s.HW), static_cast<uint64_t>(s.C), M, x, dy, relu_y, gamma,
        save_mean, save_invstd, sums_2c, dx, accumulate_dx);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_dx");
}

}  // namespace bts::kernels::cuda
