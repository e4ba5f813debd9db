// One block per channel reduces over N*H*W (in double, two passes: mean, then centred squares, as the CPU
// reference does); element-wise kernels then normalise or form dx.
// Performance note: a block per channel leaves SMs idle when C < #SMs (stage 1 has 64 channels); splitting
// channels across blocks is the obvious next step once the benchmark shows BN matters.
#include <cmath>

#include "kernels/cuda/batchnorm.h"
#include "kernels/common/rounded.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {

constexpr int kReduceThreads = 512;

__device__ double block_sum(double v, double* shared) {
  const int t = threadIdx.x;
  shared[t] = v;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) shared[t] += shared[t + stride];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();  // shared is reused by the caller's next reduction
  return total;
}

__global__ void bn_stats_kernel(BatchNormShape s, const float* x, float eps, float momentum, float* save_mean,
                                float* save_invstd, float* running_mean, float* running_var, double* stats_2c) {
  __shared__ double shared[kReduceThreads];
  const int64_t c = blockIdx.x, M = s.N * s.HW;
  double sum = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) sum += x[((j / s.HW) * s.C + c) * s.HW + j % s.HW];
  const double mean = block_sum(sum, shared) / static_cast<double>(M);
  double sq = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const double d = x[((j / s.HW) * s.C + c) * s.HW + j % s.HW] - mean;
    sq += d * d;
  }
  sq = block_sum(sq, shared);
  if (threadIdx.x == 0) {
    const double var = sq / static_cast<double>(M);
    const double invstd = 1.0 / sqrt(var + static_cast<double>(eps));
    // The apply kernel normalises with these doubles, as the CPU does; backward reads the float copies, as the
    // CPU's does.
    stats_2c[c] = mean;
    stats_2c[s.C + c] = invstd;
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    const double unbiased = M > 1 ? sq / static_cast<double>(M - 1) : var;
    const double keep = 1.0 - static_cast<double>(momentum), mom = momentum;
    running_mean[c] = static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_mean[c])), mul_rn(mom, mean)));
    running_var[c] = static_cast<float>(add_rn(mul_rn(keep, static_cast<double>(running_var[c])), mul_rn(mom, unbiased)));
  }
}

__global__ void bn_apply_kernel(BatchNormShape s, const float* x, const double* stats_2c, const float* gamma,
                                const float* beta, float* y) {
  const int64_t n = s.N * s.C * s.HW;
  BTS_GRID_STRIDE(i, n) {
    const int64_t c = (i / s.HW) % s.C;
    const double xhat = mul_rn(static_cast<double>(x[i]) - stats_2c[c], stats_2c[s.C + c]);
    y[i] = static_cast<float>(add_rn(mul_rn(xhat, static_cast<double>(gamma[c])), static_cast<double>(beta[c])));
  }
}

__global__ void bn_eval_kernel(BatchNormShape s, const float* x, const float* gamma, const float* beta, float eps,
                               const float* running_mean, const float* running_var, float* y) {
  const int64_t n = s.N * s.C * s.HW;
  BTS_GRID_STRIDE(i, n) {
    const int64_t c = (i / s.HW) % s.C;
    const double scale = gamma[c] / sqrt(static_cast<double>(running_var[c]) + eps);
    y[i] = static_cast<float>(x[i] * scale + (beta[c] - running_mean[c] * scale));
  }
}

__global__ void bn_backward_reduce_kernel(BatchNormShape s, const float* x, const float* dy, const float* mean,
                                          const float* invstd, float* dgamma, float* dbeta, bool accumulate,
                                          double* sums) {
  __shared__ double shared[kReduceThreads];
  const int64_t c = blockIdx.x, M = s.N * s.HW;
  const double m = mean[c], is = invstd[c];
  double sdy = 0, sdyx = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t idx = ((j / s.HW) * s.C + c) * s.HW + j % s.HW;
    sdy += dy[idx];
    sdyx += dy[idx] * (x[idx] - m) * is;
  }
  sdy = block_sum(sdy, shared);
  sdyx = block_sum(sdyx, shared);
  if (threadIdx.x == 0) {
    sums[c] = sdy;
    sums[s.C + c] = sdyx;
    dgamma[c] = static_cast<float>(accumulate ? dgamma[c] + sdyx : sdyx);
    dbeta[c] = static_cast<float>(accumulate ? dbeta[c] + sdy : sdy);
  }
}

__global__ void bn_backward_dx_kernel(BatchNormShape s, const float* x, const float* dy, const float* gamma,
                                      const float* mean, const float* invstd, const double* sums, float* dx,
                                      bool accumulate) {
  const int64_t n = s.N * s.C * s.HW;
  const double M = static_cast<double>(s.N * s.HW);
  BTS_GRID_STRIDE(i, n) {
    const int64_t c = (i / s.HW) % s.C;
    const double xhat = (x[i] - static_cast<double>(mean[c])) * invstd[c];
    const double k = static_cast<double>(gamma[c]) * invstd[c] / M;
    const float v = static_cast<float>(k * (M * dy[i] - sums[c] - xhat * sums[s.C + c]));
    dx[i] = accumulate ? dx[i] + v : v;
  }
}

}  // namespace

void batchnorm_forward_train(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                             const float* beta, float eps, float momentum, float* y, float* save_mean,
                             float* save_invstd, float* running_mean, float* running_var, double* scratch_2c) {
  bn_stats_kernel<<<static_cast<unsigned>(s.C), kReduceThreads, 0, st>>>(s, x, eps, momentum, save_mean, save_invstd,
                                                                          running_mean, running_var, scratch_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_stats");
  bn_apply_kernel<<<grid_for(s.N * s.C * s.HW), kThreads, 0, st>>>(s, x, scratch_2c, gamma, beta, y);
  BTS_CUDA_LAUNCH_CHECK("bn_apply");
}

void batchnorm_forward_eval(cudaStream_t st, const BatchNormShape& s, const float* x, const float* gamma,
                            const float* beta, float eps, const float* running_mean, const float* running_var,
                            float* y) {
  bn_eval_kernel<<<grid_for(s.N * s.C * s.HW), kThreads, 0, st>>>(s, x, gamma, beta, eps, running_mean, running_var,
                                                                   y);
  BTS_CUDA_LAUNCH_CHECK("bn_eval");
}

void batchnorm_backward(cudaStream_t st, const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                        const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                        bool accumulate_dx, bool accumulate_params, double* scratch_2c) {
  bn_backward_reduce_kernel<<<static_cast<unsigned>(s.C), kReduceThreads, 0, st>>>(
      s, x, dy, save_mean, save_invstd, dgamma, dbeta, accumulate_params, scratch_2c);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_reduce");
  bn_backward_dx_kernel<<<grid_for(s.N * s.C * s.HW), kThreads, 0, st>>>(s, x, dy, gamma, save_mean, save_invstd,
                                                                          scratch_2c, dx, accumulate_dx);
  BTS_CUDA_LAUNCH_CHECK("bn_backward_dx");
}

}  // namespace bts::kernels::cuda
