#include "kernels/common/check.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/importance.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sampling.h"
#include "kernels/cuda/sort.h"

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

// The reductions, in one block with a fixed order (deterministic): reduced[0] = the number of seen samples,
// reduced[1] = the largest seen importance (the marks of the unseen are -1, below every importance in [0, 1]).
constexpr int kReduceThreads = 1024;
__global__ void seen_max_kernel(int64_t n, const int32_t* visits, const double* w, double* reduced) {
  __shared__ double s_seen[kReduceThreads], s_max[kReduceThreads];
  double seen = 0, mx = -1.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    seen += visits[i] > 0 ? 1.0 : 0.0;
    mx = fmax(mx, w[i]);
  }
  seen = block_reduce(seen, s_seen, Sum());
  mx = block_reduce(mx, s_max, Max());
  if (threadIdx.x == 0) {
    reduced[0] = seen;
    reduced[1] = mx;
  }
}
// Never seen: the maximum importance; nothing seen at all: every weight 1 (and no eps, as on the CPU).
__global__ void finish_weights_kernel(int64_t n, const int32_t* visits, const double* reduced, double* w) {
  const bool none_seen = reduced[0] == 0;
  const double max_s = reduced[1];
  BTS_GRID_STRIDE(i, n) w[i] = none_seen ? 1.0 : visits[i] == 0 ? max_s : w[i];
}
// reduced[2] = the mean weight, the eps of the "+ eps" variant.
__global__ void mean_kernel(int64_t n, const double* w, double* reduced) {
  __shared__ double s_sum[kReduceThreads];
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += w[i];
  sum = block_reduce(sum, s_sum, Sum());
  if (threadIdx.x == 0) reduced[2] = sum / static_cast<double>(n);
}
__global__ void add_mean_kernel(int64_t n, const double* reduced, double* w) {
  if (reduced[0] == 0) return;
  const double eps = reduced[2];
  BTS_GRID_STRIDE(i, n) w[i] += eps;
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

}  // namespace

void update_importance_stats(cudaStream_t s, const int32_t* idx, const float* prob, const float* label_weights,
                             const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                             float* last_p) {
  update_kernel<<<grid_for(b), kThreads, 0, s>>>(idx, prob, label_weights, source_slot, b, M, sum_p, visits, last_p);
  BTS_CUDA_LAUNCH_CHECK("update_importance_stats");
}

void importance_weights(cudaStream_t s, int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                        ImportanceKind kind, bool averaging, bool use_eps, double* w, void* scratch,
                        size_t scratch_bytes) {
  BTS_CHECK(scratch_bytes >= epoch_draw_scratch_bytes(n), "importance_weights: scratch too small");
  if (n == 0) return;
  auto* reduced = static_cast<double*>(scratch);
  seen_importance_kernel<<<grid_for(n), kThreads, 0, s>>>(n, sum_p, visits, last_p, kind, averaging, w);
  BTS_CUDA_LAUNCH_CHECK("importance seen");
  seen_max_kernel<<<1, kReduceThreads, 0, s>>>(n, visits, w, reduced);
  BTS_CUDA_LAUNCH_CHECK("importance seen/max");
  finish_weights_kernel<<<grid_for(n), kThreads, 0, s>>>(n, visits, reduced, w);
  BTS_CUDA_LAUNCH_CHECK("importance unseen");
  if (use_eps) {
    mean_kernel<<<1, kReduceThreads, 0, s>>>(n, w, reduced);
    BTS_CUDA_LAUNCH_CHECK("importance mean");
    add_mean_kernel<<<grid_for(n), kThreads, 0, s>>>(n, reduced, w);
    BTS_CUDA_LAUNCH_CHECK("importance eps");
  }
}

void weighted_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order,
                    void* scratch, size_t scratch_bytes) {
  BTS_CHECK(scratch_bytes >= epoch_draw_scratch_bytes(n), "weighted_order: scratch too small");
  const size_t key_bytes = epoch_draw_key_bytes(n);
  auto* keys = static_cast<double*>(scratch);
  keys_kernel<<<grid_for(n), kThreads, 0, s>>>(seed, epoch, n, w, keys, order);
  BTS_CUDA_LAUNCH_CHECK("weighted_order keys");
  // Descending keys: the largest keys are the draws; ties (only -inf: weight 0) keep index order.
  sort_by_key(s, keys, order, n, /*descending=*/true, static_cast<char*>(scratch) + key_bytes,
              scratch_bytes - key_bytes);
  BTS_CUDA_LAUNCH_CHECK("weighted_order sort");
}

void top_q_weights(cudaStream_t s, const float* loss, int64_t b, int64_t q, float* weights) {
  top_q_kernel<<<grid_for(b), kThreads, 0, s>>>(loss, b, q, weights);
  BTS_CUDA_LAUNCH_CHECK("top_q_weights");
}

}  // namespace bts::kernels::cuda
