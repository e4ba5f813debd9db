#include <cmath>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {

// One thread per sample (K is a class count: at most a few hundred).
__global__ void ce_forward_kernel(CrossEntropyShape s, const float* logits, const int32_t* labels, const float* lw,
                                  float* loss, float* prob, double* lse_out) {
  BTS_GRID_STRIDE(i, s.N) {
    const float* z = logits + i * s.K;
    double mx = z[0];
    for (int64_t k = 1; k < s.K; ++k) mx = fmax(mx, (double)z[k]);
    double sum = 0;
    for (int64_t k = 0; k < s.K; ++k) sum += exp(z[k] - mx);
    const double lse = mx + log(sum);
    double l = 0;
    for (int64_t m = 0; m < s.M; ++m) {
      const int32_t y = labels[i * s.M + m];
      const bool ok = y >= 0 && y < s.K;
      const double zy = ok ? (double)z[y] : nan("");
      l += lw[i * s.M + m] * (lse - zy);
      prob[i * s.M + m] = static_cast<float>(exp(zy - lse));
    }
    loss[i] = static_cast<float>(l);
    lse_out[i] = lse;
  }
}

__global__ void ce_total_kernel(int64_t N, const float* loss, const float* sw, float* total) {
  __shared__ double shared[kThreads];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) acc += (double)sw[i] * loss[i];
  shared[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if ((int)threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) *total = static_cast<float>(shared[0]);
}

__global__ void ce_backward_kernel(CrossEntropyShape s, const float* logits, const int32_t* labels, const float* lw,
                                   const float* sw, const double* lse, const float* dtotal, float* dz,
                                   bool accumulate) {
  BTS_GRID_STRIDE(e, s.N * s.K) {
    const int64_t i = e / s.K, k = e % s.K;
    double target = 0;
    for (int64_t m = 0; m < s.M; ++m)
      if (labels[i * s.M + m] == k) target += lw[i * s.M + m];
    const float g =
        static_cast<float>((double)*dtotal * sw[i] * (exp((double)logits[e] - lse[i]) - target));
    dz[e] = accumulate ? dz[e] + g : g;
  }
}

}  // namespace

void cross_entropy_forward(cudaStream_t st, const CrossEntropyShape& s, const float* logits, const int32_t* labels,
                           const float* label_weights, const float* sample_weights, float* loss_per_sample,
                           float* prob_per_target, double* lse, float* total) {
  ce_forward_kernel<<<grid_for(s.N), kThreads, 0, st>>>(s, logits, labels, label_weights, loss_per_sample,
                                                        prob_per_target, lse);
  BTS_CUDA_LAUNCH_CHECK("cross_entropy_forward");
  ce_total_kernel<<<1, kThreads, 0, st>>>(s.N, loss_per_sample, sample_weights, total);
  BTS_CUDA_LAUNCH_CHECK("cross_entropy_total");
}

void cross_entropy_backward(cudaStream_t st, const CrossEntropyShape& s, const float* logits, const int32_t* labels,
                            const float* label_weights, const float* sample_weights, const double* lse,
                            const float* dtotal, float* dlogits, bool accumulate) {
  ce_backward_kernel<<<grid_for(s.N * s.K), kThreads, 0, st>>>(s, logits, labels, label_weights, sample_weights, lse,
                                                                dtotal, dlogits, accumulate);
  BTS_CUDA_LAUNCH_CHECK("cross_entropy_backward");
}

}  // namespace bts::kernels::cuda
