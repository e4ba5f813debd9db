#include <algorithm>

#include "kernels/common/sampling.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sampling.h"
#include "kernels/cuda/sort.h"

namespace bts::kernels::cuda {

namespace {
__global__ void keys_kernel(uint64_t seed, uint64_t epoch, int64_t n, uint64_t* keys, int32_t* order) {
  BTS_GRID_STRIDE(i, n) {
    keys[i] = permutation_key(seed, epoch, static_cast<uint64_t>(i));
    order[i] = static_cast<int32_t>(i);
  }
}
__global__ void add_counts_kernel(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) {
  BTS_GRID_STRIDE(j, b) if (weights == nullptr || weights[j] > 0) atomicAdd(counts + idx[j], 1);
}
// One block; a fixed reduction order keeps the sums deterministic.
__global__ void batch_stats_kernel(const float* logits, const float* loss, const int32_t* labels, int64_t N,
                                   int64_t K, int64_t M, double* stats) {
  __shared__ double s_loss[kThreads], s_correct[kThreads];
  double l = 0, c = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
    const float* z = logits + i * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[k] > z[best]) best = k;
    l += loss[i];
    c += best == labels[i * M] ? 1.0 : 0.0;
  }
  l = block_reduce(l, s_loss, Sum());
  c = block_reduce(c, s_correct, Sum());
  if (threadIdx.x == 0) {
    stats[0] += l;
    stats[1] += c;
  }
}
}  // namespace

size_t epoch_draw_key_bytes(int64_t n) {
  return std::max<size_t>(256, (sizeof(uint64_t) * static_cast<size_t>(n) + 255) / 256 * 256);
}

size_t epoch_draw_scratch_bytes(int64_t n) {
  // The keys (8 bytes each, both kinds), then the sort's own scratch for the larger need; importance_weights
  // uses the first 256 bytes for its reduced values.
  return epoch_draw_key_bytes(n) + std::max(sort_scratch_bytes<uint64_t>(n), sort_scratch_bytes<double>(n));
}

void random_order(cudaStream_t s, uint64_t seed, uint64_t epoch, int64_t n, int32_t* order, void* scratch,
                  size_t scratch_bytes) {
  const size_t key_bytes = epoch_draw_key_bytes(n);
  BTS_CHECK(scratch_bytes >= epoch_draw_scratch_bytes(n), "random_order: scratch too small");
  auto* keys = static_cast<uint64_t*>(scratch);
  keys_kernel<<<grid_for(n), kThreads, 0, s>>>(seed, epoch, n, keys, order);
  BTS_CUDA_LAUNCH_CHECK("random_order keys");
  sort_by_key(s, keys, order, n, /*descending=*/false, static_cast<char*>(scratch) + key_bytes,
              scratch_bytes - key_bytes);
  BTS_CUDA_LAUNCH_CHECK("random_order sort");
}

void add_counts(cudaStream_t s, const int32_t* idx, int64_t b, int32_t* counts, const float* weights) {
  add_counts_kernel<<<grid_for(b), kThreads, 0, s>>>(idx, b, counts, weights);
  BTS_CUDA_LAUNCH_CHECK("add_counts");
}

void accumulate_batch_stats(cudaStream_t s, const float* logits, const float* loss, const int32_t* labels, int64_t N,
                            int64_t K, int64_t M, double* stats) {
  batch_stats_kernel<<<1, kThreads, 0, s>>>(logits, loss, labels, N, K, M, stats);
  BTS_CUDA_LAUNCH_CHECK("batch_stats");
}

}  // namespace bts::kernels::cuda
