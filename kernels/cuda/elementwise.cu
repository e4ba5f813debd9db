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
__global__ void add_relu_kernel(int64_t n, const float* a, const float* b, float* y) {
  BTS_GRID_STRIDE(i, n) {
    const float v = a[i] + b[i];
    y[i] = v > 0.f ? v : 0.f;
  }
}
__global__ void add_relu_backward_kernel(int64_t n, const float* y, const float* dy, float* da, bool accumulate_a,
                                         float* db, bool accumulate_b) {
  BTS_GRID_STRIDE(i, n) {
    const float g = y[i] > 0.f ? dy[i] : 0.f;
    if (da) da[i] = accumulate_a ? da[i] + g : g;
    if (db) db[i] = accumulate_b ? db[i] + g : g;
  }
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

void add_relu_forward(cudaStream_t s, int64_t n, const float* a, const float* b, float* y) {
  add_relu_kernel<<<grid_for(n), kThreads, 0, s>>>(n, a, b, y);
  BTS_CUDA_LAUNCH_CHECK("add_relu_forward");
}

void add_relu_backward(cudaStream_t s, int64_t n, const float* y, const float* dy, float* da, bool accumulate_a,
                       float* db, bool accumulate_b) {
  if (!da && !db) return;
  add_relu_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(n, y, dy, da, accumulate_a, db, accumulate_b);
  BTS_CUDA_LAUNCH_CHECK("add_relu_backward");
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
