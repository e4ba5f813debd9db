#include <cstring>

#include "kernels/cpu/conv2d.h"

namespace bts::kernels::cpu {

template <typename T>
void conv2d_forward_ref(const ConvShape& s, const T* x, const T* w, T* y) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          T acc = 0;
          for (int64_t c = 0; c < s.C; ++c)
            for (int64_t r = 0; r < s.R; ++r) {
              int64_t h = p * s.stride - s.pad + r;
              if (h < 0 || h >= s.H) continue;
              for (int64_t t = 0; t < s.S; ++t) {
                int64_t ww = q * s.stride - s.pad + t;
                if (ww < 0 || ww >= s.W) continue;
                acc += x[((n * s.C + c) * s.H + h) * s.W + ww] * w[((k * s.C + c) * s.R + r) * s.S + t];
              }
            }
          y[((n * s.K + k) * P + p) * Q + q] = acc;
        }
}

template <typename T>
void conv2d_backward_data_ref(const ConvShape& s, const T* dy, const T* w, T* dx, bool accumulate) {
  const int64_t P = s.P(), Q = s.Q();
  if (!accumulate) std::memset(dx, 0, sizeof(T) * s.N * s.C * s.H * s.W);
  // Scatter form: every output position sends dy * w back to the input pixel it read.
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          T g = dy[((n * s.K + k) * P + p) * Q + q];
          for (int64_t c = 0; c < s.C; ++c)
            for (int64_t r = 0; r < s.R; ++r) {
              int64_t h = p * s.stride - s.pad + r;
              if (h < 0 || h >= s.H) continue;
              for (int64_t t = 0; t < s.S; ++t) {
                int64_t ww = q * s.stride - s.pad + t;
                if (ww < 0 || ww >= s.W) continue;
                dx[((n * s.C + c) * s.H + h) * s.W + ww] += g * w[((k * s.C + c) * s.R + r) * s.S + t];
              }
            }
        }
}

template <typename T>
void conv2d_backward_filter_ref(const ConvShape& s, const T* x, const T* dy, T* dw, bool accumulate) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t k = 0; k < s.K; ++k)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t r = 0; r < s.R; ++r)
        for (int64_t t = 0; t < s.S; ++t) {
          T acc = 0;
          for (int64_t n = 0; n < s.N; ++n)
            for (int64_t p = 0; p < P; ++p) {
              int64_t h = p * s.stride - s.pad + r;
              if (h < 0 || h >= s.H) continue;
              for (int64_t q = 0; q < Q; ++q) {
                int64_t ww = q * s.stride - s.pad + t;
                if (ww < 0 || ww >= s.W) continue;
                acc += x[((n * s.C + c) * s.H + h) * s.W + ww] * dy[((n * s.K + k) * P + p) * Q + q];
              }
            }
          T& out = dw[((k * s.C + c) * s.R + r) * s.S + t];
          out = accumulate ? out + acc : acc;
        }
}

#define BTS_INSTANTIATE(T)                                                                  \
  template void conv2d_forward_ref<T>(const ConvShape&, const T*, const T*, T*);            \
  template void conv2d_backward_data_ref<T>(const ConvShape&, const T*, const T*, T*, bool); \
  template void conv2d_backward_filter_ref<T>(const ConvShape&, const T*, const T*, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
