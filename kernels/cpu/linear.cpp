#include "kernels/cpu/linear.h"

#include "kernels/cpu/blas.h"

namespace bts::kernels::cpu {

template <typename T> void linear_forward_ref(const LinearShape& s, const T* x, const T* w, const T* b, T* y) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t o = 0; o < s.O; ++o) {
      T acc = b[o];
      for (int64_t i = 0; i < s.I; ++i) acc += x[n * s.I + i] * w[o * s.I + i];
      y[n * s.O + o] = acc;
    }
}

template <typename T>
void linear_backward_ref(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
                         bool accumulate_dx, bool accumulate_params) {
  if (dx) {
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t i = 0; i < s.I; ++i) {
        T acc = 0;
        for (int64_t o = 0; o < s.O; ++o) acc += dy[n * s.O + o] * w[o * s.I + i];
        dx[n * s.I + i] = accumulate_dx ? dx[n * s.I + i] + acc : acc;
      }
  }
  for (int64_t o = 0; o < s.O; ++o) {
    T gb = 0;
    for (int64_t n = 0; n < s.N; ++n) gb += dy[n * s.O + o];
    db[o] = accumulate_params ? db[o] + gb : gb;
    for (int64_t i = 0; i < s.I; ++i) {
      T acc = 0;
      for (int64_t n = 0; n < s.N; ++n) acc += dy[n * s.O + o] * x[n * s.I + i];
      dw[o * s.I + i] = accumulate_params ? dw[o * s.I + i] + acc : acc;
    }
  }
}

template <typename T> void linear_forward_gemm(const LinearShape& s, const T* x, const T* w, const T* b, T* y) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t o = 0; o < s.O; ++o) y[n * s.O + o] = b[o];
  gemm(false, true, s.N, s.O, s.I, T(1), x, s.I, w, s.I, T(1), y, s.O);
}

template <typename T>
void linear_backward_gemm(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
                          bool accumulate_dx, bool accumulate_params) {
  if (dx) gemm(false, false, s.N, s.I, s.O, T(1), dy, s.O, w, s.I, accumulate_dx ? T(1) : T(0), dx, s.I);
  gemm(true, false, s.O, s.I, s.N, T(1), dy, s.O, x, s.I, accumulate_params ? T(1) : T(0), dw, s.I);
  for (int64_t o = 0; o < s.O; ++o) {
    T gb = 0;
    for (int64_t n = 0; n < s.N; ++n) gb += dy[n * s.O + o];
    db[o] = accumulate_params ? db[o] + gb : gb;
  }
}

#define BTS_INSTANTIATE(T)                                                                                     \
  template void linear_forward_ref<T>(const LinearShape&, const T*, const T*, const T*, T*);                   \
  template void linear_backward_ref<T>(const LinearShape&, const T*, const T*, const T*, T*, T*, T*, bool,     \
                                       bool);                                                                  \
  template void linear_forward_gemm<T>(const LinearShape&, const T*, const T*, const T*, T*);                  \
  template void linear_backward_gemm<T>(const LinearShape&, const T*, const T*, const T*, T*, T*, T*, bool, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
