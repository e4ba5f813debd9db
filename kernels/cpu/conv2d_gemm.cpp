// Fast CPU convolution: im2col per image, then one GEMM (OpenBLAS). For image n:
//   forward          y_n[K, PQ]   = W[K, CRS] * col_n[CRS, PQ]
//   backward data    col[CRS, PQ] = W^T * dy_n, then col2im adds col back into dx_n
//   backward filter  dW[K, CRS]  += dy_n[K, PQ] * col_n^T
// A 1x1, stride-1, unpadded convolution skips im2col (col_n is x_n itself).
// Workspaces are thread-local, so the per-image loops run in parallel (OpenMP) without sharing buffers. Results
// do not depend on the thread count: nothing sums across images except backward filter, in a fixed order.
#include <algorithm>
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

// The output columns q whose input column w = q*stride - pad + t lies inside [0, W): [*lo, *hi).
inline void valid_q_range(const ConvShape& s, int64_t t, int64_t Q, int64_t* lo, int64_t* hi) {
  const int64_t first = s.pad - t;  // smallest q*stride allowed
  *lo = first <= 0 ? 0 : (first + s.stride - 1) / s.stride;
  const int64_t last = s.W - 1 + s.pad - t;  // largest q*stride allowed
  *hi = last < 0 ? 0 : std::min<int64_t>(Q, last / s.stride + 1);
  if (*lo > *hi) *lo = *hi;
}

// col[(c*R + r)*S + t][p*Q + q] = x[c][p*stride - pad + r][q*stride - pad + t] (0 outside the image).
// Branch-free inner loops: the valid column range is computed once per kernel tap.
template <typename T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        T* row = col + ((c * s.R + r) * s.S + t) * P * Q;
        int64_t lo, hi;
        valid_q_range(s, t, Q, &lo, &hi);
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * s.stride - s.pad + r;
          T* out = row + p * Q;
          if (h < 0 || h >= s.H) {
            std::memset(out, 0, sizeof(T) * Q);
            continue;
          }
          const T* in = x + (c * s.H + h) * s.W - s.pad + t;  // in[q * stride] is column q's pixel
          for (int64_t q = 0; q < lo; ++q) out[q] = T(0);
          if (s.stride == 1) std::memcpy(out + lo, in + lo, sizeof(T) * (hi - lo));
          else
            for (int64_t q = lo; q < hi; ++q) out[q] = in[q * s.stride];
          for (int64_t q = hi; q < Q; ++q) out[q] = T(0);
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
        int64_t lo, hi;
        valid_q_range(s, t, Q, &lo, &hi);
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * s.stride - s.pad + r;
          if (h < 0 || h >= s.H) continue;
          T* out = dx + (c * s.H + h) * s.W - s.pad + t;
          const T* in = row + p * Q;
          for (int64_t q = lo; q < hi; ++q) out[q * s.stride] += in[q];
        }
      }
}

// Image n's columns for the GEMM: the image itself for a pointwise convolution, else its im2col in this thread's
// workspace (valid until the thread's next call).
template <typename T>
const T* image_columns(const ConvShape& s, const T* xn) {
  if (is_pointwise(s)) return xn;
  T* col = workspace<T>(static_cast<size_t>(s.C * s.R * s.S * s.P() * s.Q())).data();
  im2col(s, xn, col);
  return col;
}

}  // namespace

// Images are spread over OpenMP threads; each thread runs single-threaded BLAS on its own im2col buffer
// (OpenBLAS's own threading on these small per-image GEMMs spent more time yielding than computing).
template <typename T>
void conv2d_forward_gemm(const ConvShape& s, const T* x, const T* w, T* y) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    const T* cn = image_columns(s, x + n * in_sz);
    gemm(false, false, s.K, PQ, CRS, T(1), w, CRS, cn, PQ, T(0), y + n * s.K * PQ, PQ);
  }
}

template <typename T>
void conv2d_backward_data_gemm(const ConvShape& s, const T* dy, const T* w, T* dx, bool accumulate) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W;
  const bool pointwise = is_pointwise(s);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    if (pointwise) {
      gemm(true, false, CRS, PQ, s.K, T(1), w, CRS, dy + n * s.K * PQ, PQ, accumulate ? T(1) : T(0), dx + n * in_sz,
           PQ);
      continue;
    }
    T* col = workspace<T>(static_cast<size_t>(CRS * PQ)).data();
    gemm(true, false, CRS, PQ, s.K, T(1), w, CRS, dy + n * s.K * PQ, PQ, T(0), col, PQ);
    if (!accumulate) std::memset(dx + n * in_sz, 0, sizeof(T) * in_sz);
    col2im_add(s, col, dx + n * in_sz);
  }
}

// The batch is cut into a fixed number of chunks of consecutive images, whatever the thread count: chunk 0
// accumulates into dw itself, the others into private partial sums added at the end in chunk order. So the
// summation order, and the result, are the same on 1 thread or 16 (the threads share out the chunks). The chunk
// count bounds this op's parallelism and its extra memory ((chunks - 1) x the weight's size).
constexpr int64_t kFilterChunks = 8;

template <typename T>
void conv2d_backward_filter_gemm(const ConvShape& s, const T* x, const T* dy, T* dw, bool accumulate) {
  const int64_t PQ = s.P() * s.Q(), CRS = s.C * s.R * s.S, in_sz = s.C * s.H * s.W, wsz = s.K * CRS;
  const int64_t chunks = std::min<int64_t>(kFilterChunks, std::max<int64_t>(s.N, 1));
  std::vector<T> partial(static_cast<size_t>((chunks - 1) * wsz), T(0));
  if (!accumulate) std::memset(dw, 0, sizeof(T) * wsz);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    T* acc = c == 0 ? dw : partial.data() + (c - 1) * wsz;
    for (int64_t n = c * s.N / chunks; n < (c + 1) * s.N / chunks; ++n) {
      const T* cn = image_columns(s, x + n * in_sz);
      gemm(false, true, s.K, CRS, PQ, T(1), dy + n * s.K * PQ, PQ, cn, PQ, T(1), acc, CRS);
    }
  }
  // Each element sums its partials in chunk order, so splitting the elements over threads changes nothing.
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < wsz; ++i)
    for (int64_t c = 1; c < chunks; ++c) dw[i] += partial[static_cast<size_t>((c - 1) * wsz + i)];
}

#define BTS_INSTANTIATE(T)                                                                   \
  template void conv2d_forward_gemm<T>(const ConvShape&, const T*, const T*, T*);            \
  template void conv2d_backward_data_gemm<T>(const ConvShape&, const T*, const T*, T*, bool); \
  template void conv2d_backward_filter_gemm<T>(const ConvShape&, const T*, const T*, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
