#include "kernels/cpu/elementwise.h"

namespace bts::kernels::cpu {

// Loops are split by the accumulate flag so each one vectorises, and spread over OpenMP threads when large.
namespace {
constexpr int64_t kParallelMin = 1 << 15;
}

template <typename T> void relu_forward(int64_t n, const T* x, T* y) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <typename T> void relu_backward(int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  if (accumulate) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] += y[i] > T(0) ? dy[i] : T(0);
  } else {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > T(0) ? dy[i] : T(0);
  }
}

template <typename T> void add_forward(int64_t n, const T* a, const T* b, T* y) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

template <typename T> void copy_grad(int64_t n, const T* src, T* dst, bool accumulate) {
  if (accumulate) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
  } else {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

#define BTS_INSTANTIATE(T)                                                  \
  template void relu_forward<T>(int64_t, const T*, T*);                     \
  template void relu_backward<T>(int64_t, const T*, const T*, T*, bool);    \
  template void add_forward<T>(int64_t, const T*, const T*, T*);            \
  template void copy_grad<T>(int64_t, const T*, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
