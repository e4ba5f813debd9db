#include "kernels/cuda/check.h"
#include "kernels/cuda/elements.cuh"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {
template <typename T>
__global__ void relu_forward_kernel(int64_t n, const T* x, T* y) {
  BTS_GRID_STRIDE(i, n) {
    const float v = load(x + i);
    store(y + i, v > 0.f ? v : 0.f, false);
  }
}
template <typename T>
__global__ void relu_backward_kernel(int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const float g = load(y + i) > 0.f ? load(dy + i) : 0.f;
    store(dx + i, g, accumulate);
  }
}
template <typename T>
__global__ void add_kernel(int64_t n, const T* a, const T* b, T* y) {
  BTS_GRID_STRIDE(i, n) store(y + i, load(a + i) + load(b + i), false);
}
template <typename T>
__global__ void accumulate_kernel(int64_t n, const T* src, T* dst) {
  BTS_GRID_STRIDE(i, n) store(dst + i, load(src + i), true);
}
template <typename T>
__global__ void add_relu_kernel(int64_t n, const T* a, const T* b, T* y) {
  BTS_GRID_STRIDE(i, n) {
    const float v = load(a + i) + load(b + i);
    store(y + i, v > 0.f ? v : 0.f, false);
  }
}
template <typename T>
__global__ void add_relu_backward_kernel(int64_t n, const T* y, const T* dy, T* da, bool accumulate_a, T* db,
                                         bool accumulate_b) {
  BTS_GRID_STRIDE(i, n) {
    const float g = load(y + i) > 0.f ? load(dy + i) : 0.f;
    if (da) store(da + i, g, accumulate_a);
    if (db) store(db + i, g, accumulate_b);
  }
}
}  // namespace

template <typename T>
void relu_forward(cudaStream_t s, int64_t n, const T* x, T* y) {
  relu_forward_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, x, y);
  BTS_CUDA_LAUNCH_CHECK("relu_forward");
}

template <typename T>
void relu_backward(cudaStream_t s, int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  relu_backward_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, y, dy, dx, accumulate);
  BTS_CUDA_LAUNCH_CHECK("relu_backward");
}

template <typename T>
void add_forward(cudaStream_t s, int64_t n, const T* a, const T* b, T* y) {
  add_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, a, b, y);
  BTS_CUDA_LAUNCH_CHECK("add_forward");
}

template <typename T>
void add_relu_forward(cudaStream_t s, int64_t n, const T* a, const T* b, T* y) {
  add_relu_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, a, b, y);
  BTS_CUDA_LAUNCH_CHECK("add_relu_forward");
}

template <typename T>
void add_relu_backward(cudaStream_t s, int64_t n, const T* y, const T* dy, typename ElementwiseElement<T>::type* da,
                       bool accumulate_a, typename ElementwiseElement<T>::type* db, bool accumulate_b) {
  if (!da && !db) return;
  add_relu_backward_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, y, dy, da, accumulate_a, db, accumulate_b);
  BTS_CUDA_LAUNCH_CHECK("add_relu_backward");
}

template <typename T>
void copy_grad(cudaStream_t s, int64_t n, const T* src, T* dst, bool accumulate) {
  if (!accumulate) {
    BTS_CUDA_CHECK(cudaMemcpyAsync(dst, src, sizeof(T) * n, cudaMemcpyDeviceToDevice, s));
    return;
  }
  accumulate_kernel<T><<<grid_for(n), kThreads, 0, s>>>(n, src, dst);
  BTS_CUDA_LAUNCH_CHECK("copy_grad");
}

#define BTS_INSTANTIATE(T)                                                                              \
  template void relu_forward<T>(cudaStream_t, int64_t, const T*, T*);                                   \
  template void relu_backward<T>(cudaStream_t, int64_t, const T*, const T*, T*, bool);                  \
  template void add_forward<T>(cudaStream_t, int64_t, const T*, const T*, T*);                          \
  template void copy_grad<T>(cudaStream_t, int64_t, const T*, T*, bool);                                \
  template void add_relu_forward<T>(cudaStream_t, int64_t, const T*, const T*, T*);                     \
  template void add_relu_backward<T>(cudaStream_t, int64_t, const T*, const T*, T*, bool, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(uint16_t)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cuda
