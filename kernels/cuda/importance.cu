#include <thrust/count.h>
#include <thrust/execution_policy.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>
#include <thrust/sort.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/importance.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {

__global__ void update_kernel(const int32_t* idx, const float* prob, const float* label_weights,
                              const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                              float* last_p) {
  // One thread per slot gathers its own credit (no atomics: fixed order, the CPU's bits). The samplers never
  // repeat a sample inside a batch, so plain writes are race-free.
  BTS_GRID_STRIDE(j, b) {
    const double p = credited_probability(prob, label_weights, source_slot, b, M, j);
    if (p < 0) continue;
    const int32_t i = idx[j];
    sum_p[i] += p;
    last_p[i] = static_cast<float>(p);
    visits[i] += 1;
  }
}

__global__ void seen_importance_kernel(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                                       ImportanceKind kind, bool averaging, double* w) {
  BTS_GRID_STRIDE(i, n) {
    if (visits[i] == 0) {
      w[i] = -1.0;  // marks "never seen" until the maximum is known
      continue;
    }
    const double p = averaging ? sum_p[i] / visits[i] : static_cast<double>(last_p[i]);
    w[i] = importance_of(p, kind);
  }
}

__global__ void finish_weights_kernel(int64_t n, double max_s, double* w) {
  BTS_GRID_STRIDE(i, n) if (w[i] < 0) w[i] = max_s;
}
__global__ void add_kernel(int64_t n, double eps, double* w) {
  BTS_GRID_STRIDE(i, n) w[i] += eps;
}
__global__ void fill_kernel(int64_t n, double v, double* w) {
  BTS_GRID_STRIDE(i, n) w[i] = v;
}
__global__ void keys_kernel(uint64_t seed, uint64_t epoch, int64_t n, const double* w, double* keys, int32_t* order) {
  BTS_GRID_STRIDE(i, n) {
    keys[i] = draw_key(seed, epoch, static_cast<uint64_t>(i), w[i]);
    order[i] = static_cast<int32_t>(i);
  }
}

__global__ void top_q_kernel(const float* loss, int64_t b, int64_t q, float* weights) {
  BTS_GRID_STRIDE(i, b) weights[i] = loss_rank(loss, b, i) < q ? 1.0f / static_cast<float>(q) : 0.0f;
}

struct IsSeen {
  __host__ __device__ bool operator()(int32_t v) const { return v > 0; }
};

}  // namespace

void update_importance_stats(cudaStream_t s, const int32_t* idx, const float* prob, const float* label_weights,
                             const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                             float* last_p) {
  update_kernel<<<grid_for(b), kThreads, 0, s>>>(idx, prob, label_weights, source_slot, b, M, sum_p, visits, last_p);
  BTS_CUDA_LAUNCH_CHECK("update_importance_stats");
}

int64_t importance_weights(cudaStream_t s, int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                           ImportanceKind kind, bool averaging, bool use_eps, double* w) {
  auto policy = thrust::cuda::par.on(s);
  const int64_t seen = thrust::count_if(policy, visits, visits + n, IsSeen());
  if (seen == 0) {
    fill_kernel<<<grid_for(n), kThreads, 0, s>>>(n, 1.0, w);
    BTS_CUDA_LAUNCH_CHECK("importance fill");
    return 0;
  }
  seen_importance_kernel<<<grid_for(n), kThreads, 0, s>>>(n, sum_p, visits, last_p, kind, averaging, w);
  BTS_CUDA_LAUNCH_CHECK("importance seen");
  const double max_s = thrust::reduce(policy, w, w + n, -1.0, thrust::maximum<double>());
  finish_weights_kernel<<<grid_for(n), kThreads, 0, s>>>(n, max_s, w);
  BTS_CUDA_LAUNCH_CHECK("importance unseen");
  if (use_eps) {
    const double eps = thrust::reduce(policy, w, w + n, 0.0) / static_cast<double>(n);
    add_kernel<<<grid_for(n), kThreads, 0, s>>>(n, eps, w);
    BTS_CUDA_LAUNCH_CHECK("importance eps");
  }
  return seen;
}

void weighted_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, const double* w, double* keys,
                    int32_t* order) {
  keys_kernel<<<grid_for(n), kThreads, 0, s>>>(seed, epoch, n, w, keys, order);
  BTS_CUDA_LAUNCH_CHECK("weighted_order keys");
  thrust::stable_sort_by_key(thrust::cuda::par.on(s), keys, keys + n, order, thrust::greater<double>());
  BTS_CUDA_LAUNCH_CHECK("weighted_order sort");
}

void top_q_weights(cudaStream_t s, const float* loss, int64_t b, int64_t q, float* weights) {
  top_q_kernel<<<grid_for(b), kThreads, 0, s>>>(loss, b, q, weights);
  BTS_CUDA_LAUNCH_CHECK("top_q_weights");
}

}  // namespace bts::kernels::cuda
