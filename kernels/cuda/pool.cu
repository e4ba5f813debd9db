#include "kernels/cuda/check.h"
#include "kernels/cuda/elements.cuh"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/pool.h"

namespace bts::kernels::cuda {

namespace {
// NCHW: one warp per (n, c) plane: lanes stride over H*W, then a shuffle reduction.
template <typename T>
__global__ void gap_forward_kernel(int64_t planes, int64_t HW, const T* x, T* y) {
  const int64_t warp = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= planes) return;
  float acc = 0.f;
  for (int64_t i = lane; i < HW; i += 32) acc += load(x + warp * HW + i);
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
  if (lane == 0) store(y + warp, acc / static_cast<float>(HW), false);
}
// Channels last: one thread per (n, c), summing its HW values in order; neighbouring threads read neighbouring
// channels, so each step of the loop is one coalesced row read.
template <typename T>
__global__ void gap_forward_nhwc_kernel(int64_t N, int64_t C, int64_t HW, const T* x, T* y) {
  BTS_GRID_STRIDE(j, N * C) {
    const int64_t n = j / C, c = j - n * C;
    const T* p = x + n * HW * C + c;
    float acc = 0.f;
    for (int64_t i = 0; i < HW; ++i) acc += load(p + i * C);
    store(y + j, acc / static_cast<float>(HW), false);
  }
}
template <typename T>
__global__ void gap_backward_kernel(int64_t n, int64_t HW, const T* dy, T* dx, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const float g = load(dy + i / HW) / static_cast<float>(HW);
    store(dx + i, g, accumulate);
  }
}
// Channels last: element i = (n * HW + hw) * C + c takes dy[n * C + c].
template <typename T>
__global__ void gap_backward_nhwc_kernel(int64_t n, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const int64_t c = i % C, img = i / (HW * C);
    const float g = load(dy + img * C + c) / static_cast<float>(HW);
    store(dx + i, g, accumulate);
  }
}
}  // namespace

template <typename T>
void global_avg_pool_forward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const T* x, T* y,
                             bool channels_last) {
  const int64_t planes = N * C;
  if (planes == 0) return;  // an empty batch: nothing to average (a launch of no blocks is an error)
  if (channels_last) {
    gap_forward_nhwc_kernel<T><<<grid_for(planes), kThreads, 0, s>>>(N, C, HW, x, y);
  } else {
    const unsigned blocks = static_cast<unsigned>((planes * 32 + kThreads - 1) / kThreads);
    gap_forward_kernel<T><<<blocks, kThreads, 0, s>>>(planes, HW, x, y);
  }
  BTS_CUDA_LAUNCH_CHECK("global_avg_pool_forward");
}

template <typename T>
void global_avg_pool_backward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate,
                              bool channels_last) {
  const int64_t n = N * C * HW;
  if (channels_last)
    gap_backward_nhwc_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, C, HW, dy, dx, accumulate);
  else
    gap_backward_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, HW, dy, dx, accumulate);
  BTS_CUDA_LAUNCH_CHECK("global_avg_pool_backward");
}

#define BTS_INSTANTIATE(T)                                                                                   \
  template void global_avg_pool_forward<T>(cudaStream_t, int64_t, int64_t, int64_t, const T*, T*, bool);     \
  template void global_avg_pool_backward<T>(cudaStream_t, int64_t, int64_t, int64_t, const T*, T*, bool, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(uint16_t)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cuda
