// Fast CPU convolution: im2col per image, then one GEMM (OpenBLAS). For image n:
//   forward          y_n[K, PQ]   = W[K, CRS] * col_n[CRS, PQ]
//   backward data    col[CRS, PQ] = W^T * dy_n, then col2im adds col back into dx_n
//   backward filter  dW[K, CRS]  += dy_n[K, PQ] * col_n^T
// A 1x1, stride-1, unpadded convolution skips im2col (col_n is x_n itself).
#include <cstring>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d.h"

namespace bts::kernels::cpu {

namespace {

bool is_pointwise(const ConvShape& s) { return s.R == 1 && s.S == 1 && s.stride == 1 && s.pad == 0; }

template <typename T>
std::vector<T>& workspace(size_t n) {
  thread_local std::vector<T> ws;
  if (ws.size() < n) ws.resize(n);
  return ws;
}

// col[(c*R + r)*S + t][p*Q + q] = x[c][p*stride - pad + r][q*stride - pad + t] (0 outside the image)
template <typename T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        T* row = col + ((c * s.R + r) * s.S + t) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          int64_t h = p * s.stride - s.pad + r;
          T* out = row + p * Q;
          if (h < 0 || h >= s.H) {
            std::memset(out, 0, sizeof(T) * Q);
            continue;
          }
          const T* in = x + (c * s.H + h) * s.W;
          for (int64_t q = 0; q < Q; ++q) {
            int64_t w = q * s.stride - s.pad + t;
            out[q] = (w >= 0 && w < s.W) ? in[w] : T(0);
          }
        }
      }
}

template <typename T>
void col2im_add(const ConvShape& s, const T* col, T* dx) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        const T* row = col + ((c * s.R + r) * s.S + t) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          int64_t h = p * s.stride - s.pad + r;
          if (h < 0 || h >= s.H) continue;
          T* out = dx + (c * s.H + h) * s.W;
          const T* in = row + p * Q;
          for (int64_t q = 0; q < Q; ++q) {
            int64_t w = q * s.stride - s.pad + t;
            if (w >= 0 && w < s.W) out[w] += in[q];
          }
        }
      }
}

}  // namespace

template <typename T>
void conv2d_forward_gemm(const ConvShape& s, const T* x, const T* w, T* y) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W;
  T* col = is_pointwise(s) ? nullptr : workspace<T>(static_cast<size_t>(CRS * PQ)).data();
  for (int64_t n = 0; n < s.N; ++n) {
    const T* xn = x + n * in_sz;
    const T* cn = xn;
    if (col) {
      im2col(s, xn, col);
      cn = col;
    }
    gemm(false, false, s.K, PQ, CRS, T(1), w, CRS, cn, PQ, T(0), y + n * s.K * PQ, PQ);
  }
}

template <typename T>
void conv2d_backward_data_gemm(const ConvShape& s, const T* dy, const T* w, T* dx, bool accumulate) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W;
  if (is_pointwise(s)) {
    for (int64_t n = 0; n < s.N; ++n)
      gemm(true, false, CRS, PQ, s.K, T(1), w, CRS, dy + n * s.K * PQ, PQ, accumulate ? T(1) : T(0), dx + n * in_sz,
           PQ);
    return;
  }
  T* col = workspace<T>(static_cast<size_t>(CRS * PQ)).data();
  if (!accumulate) std::memset(dx, 0, sizeof(T) * s.N * in_sz);
  for (int64_t n = 0; n < s.N; ++n) {
    gemm(true, false, CRS, PQ, s.K, T(1), w, CRS, dy + n * s.K * PQ, PQ, T(0), col, PQ);
    col2im_add(s, col, dx + n * in_sz);
  }
}

template <typename T>
void conv2d_backward_filter_gemm(const ConvShape& s, const T* x, const T* dy, T* dw, bool accumulate) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W;
  T* col = is_pointwise(s) ? nullptr : workspace<T>(static_cast<size_t>(CRS * PQ)).data();
  for (int64_t n = 0; n < s.N; ++n) {
    const T* cn = x + n * in_sz;
    if (col) {
      im2col(s, cn, col);
      cn = col;
    }
    T beta = (n == 0 && !accumulate) ? T(0) : T(1);
    gemm(false, true, s.K, CRS, PQ, T(1), dy + n * s.K * PQ, PQ, cn, PQ, beta, dw, CRS);
  }
  if (s.N == 0 && !accumulate) std::memset(dw, 0, sizeof(T) * s.K * CRS);
}

#define BTS_INSTANTIATE(T)                                                                   \
  template void conv2d_forward_gemm<T>(const ConvShape&, const T*, const T*, T*);            \
  template void conv2d_backward_data_gemm<T>(const ConvShape&, const T*, const T*, T*, bool); \
  template void conv2d_backward_filter_gemm<T>(const ConvShape&, const T*, const T*, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
