#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/pool.h"

namespace bts::kernels::cuda {

namespace {
// One warp per (n, c) plane: lanes stride over H*W, then a shuffle reduction.
__global__ void gap_forward_kernel(int64_t planes, int64_t HW, const float* x, float* y) {
  const int64_t warp = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= planes) return;
  float acc = 0.f;
  for (int64_t i = lane; i < HW; i += 32) acc += x[warp * HW + i];
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
  if (lane == 0) y[warp] = acc / static_cast<float>(HW);
}
__global__ void gap_backward_kernel(int64_t n, int64_t HW, const float* dy, float* dx, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const float g = dy[i / HW] / static_cast<float>(HW);
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
}  // namespace

void global_avg_pool_forward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const float* x, float* y) {
  const int64_t planes = N * C;
  const unsigned blocks = static_cast<unsigned>((planes * 32 + kThreads - 1) / kThreads);
  gap_forward_kernel<<<blocks, kThreads, 0, s>>>(planes, HW, x, y);
  BTS_CUDA_LAUNCH_CHECK("global_avg_pool_forward");
}

void global_avg_pool_backward(cudaStream_t s, int64_t N, int64_t C, int64_t HW, const float* dy, float* dx,
                              bool accumulate) {
  gap_backward_kernel<<<grid_for(N * C * HW), kThreads, 0, s>>>(N * C * HW, HW, dy, dx, accumulate);
  BTS_CUDA_LAUNCH_CHECK("global_avg_pool_backward");
}

}  // namespace bts::kernels::cuda
