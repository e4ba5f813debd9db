#include "kernels/cuda/check.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {
__global__ void relu_forward_kernel(int64_t n, const float* x, float* y) {
  BTS_GRID_STRIDE(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
__global__ void relu_backward_kernel(int64_t n, const float* y, const float* dy, float* dx, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const float g = y[i] > 0.f ? dy[i] : 0.f;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}
__global__ void add_kernel(int64_t n, const float* a, const float* b, float* y) {
  BTS_GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}
__global__ void accumulate_kernel(int64_t n, const float* src, float* dst) {
  BTS_GRID_STRIDE(i, n) dst[i] += src[i];
}
}  // namespace

void relu_forward(cudaStream_t s, int64_t n, const float* x, float* y) {
  relu_forward_kernel<<<grid_for(n), kThreads, 0, s>>>(n, x, y);
  BTS_CUDA_LAUNCH_CHECK("relu_forward");
}

void relu_backward(cudaStream_t s, int64_t n, const float* y, const float* dy, float* dx, bool accumulate) {
  relu_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(n, y, dy, dx, accumulate);
  BTS_CUDA_LAUNCH_CHECK("relu_backward");
}

void add_forward(cudaStream_t s, int64_t n, const float* a, const float* b, float* y) {
  add_kernel<<<grid_for(n), kThreads, 0, s>>>(n, a, b, y);
  BTS_CUDA_LAUNCH_CHECK("add_forward");
}

void copy_grad(cudaStream_t s, int64_t n, const float* src, float* dst, bool accumulate) {
  if (!accumulate) {
    BTS_CUDA_CHECK(cudaMemcpyAsync(dst, src, sizeof(float) * n, cudaMemcpyDeviceToDevice, s));
    return;
  }
  accumulate_kernel<<<grid_for(n), kThreads, 0, s>>>(n, src, dst);
  BTS_CUDA_LAUNCH_CHECK("copy_grad");
}

}  // namespace bts::kernels::cuda
