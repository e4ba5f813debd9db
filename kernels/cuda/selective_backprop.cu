#include "kernels/common/selective_backprop.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/selective_backprop.h"

namespace bts::kernels::cuda {

namespace {

__global__ void append_kernel(float* history, int64_t R, int64_t appended, const float* loss, int64_t b) {
  BTS_GRID_STRIDE(j, b) history[(appended + j) % R] = loss[j];  // b <= R: no two slots share a position
}

// One block: every thread decides its slots, then thread 0 compacts them in slot order (b is a batch, ~128,
// so a serial pass is cheaper than a scan's extra launches).
__global__ void select_kernel(const float* loss, int64_t b, const float* history, int64_t len, double beta,
                              bool prime, uint64_t seed, uint64_t step, int32_t* slots, int32_t* count) {
  extern __shared__ int32_t flags[];  // b decisions
  for (int64_t j = threadIdx.x; j < b; j += blockDim.x)
    flags[j] = sb_selected(history, len, loss[j], beta, prime, seed, step, static_cast<uint32_t>(j));
  __syncthreads();
  if (threadIdx.x == 0) {
    int32_t c = 0;
    for (int64_t j = 0; j < b; ++j)
      if (flags[j]) slots[c++] = static_cast<int32_t>(j);
    *count = c;
  }
}

// One block, like select_kernel: per-slot freshness in parallel, compaction by thread 0 in slot order.
__global__ void split_stale_kernel(const int32_t* idx, int64_t b, const float* cached_loss,
                                   const int32_t* scored_epoch, int64_t epoch, int64_t staleness, float* loss,
                                   int32_t* need, int32_t* count) {
  extern __shared__ int32_t stale[];
  for (int64_t j = threadIdx.x; j < b; j += blockDim.x) {
    const int32_t i = idx[j];
    const bool fresh = sb_loss_is_fresh(scored_epoch[i], epoch, staleness);
    stale[j] = !fresh;
    if (fresh) loss[j] = cached_loss[i];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int32_t c = 0;
    for (int64_t j = 0; j < b; ++j)
      if (stale[j]) need[c++] = static_cast<int32_t>(j);
    *count = c;
  }
}

__global__ void scatter_scores_kernel(const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                                      int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch) {
  BTS_GRID_STRIDE(t, count) {  // distinct slots, distinct samples
    const int32_t j = need[t], i = idx[j];
    loss[j] = scored[t];
    cached_loss[i] = scored[t];
    scored_epoch[i] = static_cast<int32_t>(epoch);
  }
}

template <typename T>
__global__ void gather_kernel(const T* src, int64_t row_elems, const int32_t* slots, int64_t count, T* dst) {
  BTS_GRID_STRIDE(e, count * row_elems) {
    const int64_t t = e / row_elems, k = e - t * row_elems;
    dst[e] = src[static_cast<int64_t>(slots[t]) * row_elems + k];
  }
}

}  // namespace

void sb_append_history(cudaStream_t s, float* history, int64_t R, int64_t appended, const float* loss, int64_t b) {
  // More losses than the ring holds would have two threads write one position, in no fixed order.
  BTS_CHECK(b >= 0 && b <= R, "sb_append_history (cuda): " << b << " losses for a history of " << R);
  append_kernel<<<grid_for(b), kThreads, 0, s>>>(history, R, appended, loss, b);
  BTS_CUDA_LAUNCH_CHECK("sb_append_history");
}

void sb_select(cudaStream_t s, const float* loss, int64_t b, const float* history, int64_t len, double beta,
               bool prime, uint64_t seed, uint64_t step, int32_t* slots, int32_t* count) {
  BTS_CHECK(b >= 0 && b <= kSbMaxBatch, "sb_select (cuda): a batch of " << b << " (one flag per slot in shared "
                                                                            "memory: at most " << kSbMaxBatch << ")");
  const size_t shared = static_cast<size_t>(b) * sizeof(int32_t);  // the flags
  select_kernel<<<1, kThreads, shared, s>>>(loss, b, history, len, beta, prime, seed, step, slots, count);
  BTS_CUDA_LAUNCH_CHECK("sb_select");
}

void sb_split_stale(cudaStream_t s, const int32_t* idx, int64_t b, const float* cached_loss,
                    const int32_t* scored_epoch, int64_t epoch, int64_t staleness, float* loss, int32_t* need,
                    int32_t* count) {
  BTS_CHECK(b >= 0 && b <= kSbMaxBatch, "sb_split_stale (cuda): a batch of " << b << " (one flag per slot in shared "
                                                                                "memory: at most " << kSbMaxBatch << ")");
  const size_t shared = static_cast<size_t>(b) * sizeof(int32_t);
  split_stale_kernel<<<1, kThreads, shared, s>>>(idx, b, cached_loss, scored_epoch, epoch, staleness, loss, need,
                                                 count);
  BTS_CUDA_LAUNCH_CHECK("sb_split_stale");
}

void sb_scatter_scores(cudaStream_t s, const int32_t* idx, const int32_t* need, int64_t count, const float* scored,
                       int64_t epoch, float* loss, float* cached_loss, int32_t* scored_epoch) {
  if (count == 0) return;
  scatter_scores_kernel<<<grid_for(count), kThreads, 0, s>>>(idx, need, count, scored, epoch, loss, cached_loss,
                                                             scored_epoch);
  BTS_CUDA_LAUNCH_CHECK("sb_scatter_scores");
}

void gather_rows(cudaStream_t s, const float* src, int64_t row_elems, const int32_t* slots, int64_t count,
                 float* dst) {
  if (count == 0) return;
  gather_kernel<<<grid_for(count * row_elems), kThreads, 0, s>>>(src, row_elems, slots, count, dst);
  BTS_CUDA_LAUNCH_CHECK("gather_rows");
}
void gather_rows(cudaStream_t s, const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count,
                 int32_t* dst) {
  if (count == 0) return;
  gather_kernel<<<grid_for(count * row_elems), kThreads, 0, s>>>(src, row_elems, slots, count, dst);
  BTS_CUDA_LAUNCH_CHECK("gather_rows");
}

}  // namespace bts::kernels::cuda
