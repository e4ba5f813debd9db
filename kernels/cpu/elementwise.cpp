#include "kernels/cpu/elementwise.h"

#include <algorithm>

#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

// Each kernel is a loop the compiler vectorises (no branches: the ReLU mask selects, it does not jump), cloned for
// the machine's vector units (vector_isa.h), run over blocks of 32 Ki elements spread across OpenMP threads.
// Every output element depends on its inputs only, so the results are the same on any thread count and ISA.
namespace {
constexpr int64_t kBlock = 1 << 15;

template <typename F>
void for_blocks(int64_t n, F body) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) {
    body(int64_t(0), n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) body(b * kBlock, std::min(n, (b + 1) * kBlock) - b * kBlock);
}

template <typename T> BTS_INLINE_BODY void relu_fwd(int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}
template <typename T> BTS_INLINE_BODY void relu_bwd(int64_t n, const T* y, const T* dy, T* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = dy[i];  // loaded unconditionally, so the select vectorises
    dx[i] = y[i] > T(0) ? g : T(0);
  }
}
template <typename T> BTS_INLINE_BODY void relu_bwd_add(int64_t n, const T* y, const T* dy, T* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = dy[i];
    dx[i] += y[i] > T(0) ? g : T(0);
  }
}
template <typename T> BTS_INLINE_BODY void add2(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
template <typename T> BTS_INLINE_BODY void add_into(int64_t n, const T* src, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

template <typename T> BTS_INLINE_BODY void add_relu_fwd(int64_t n, const T* a, const T* b, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = a[i] + b[i];
    y[i] = v > T(0) ? v : T(0);
  }
}
// One target: dst = g or dst += g, g = y > 0 ? dy : 0.
template <typename T> BTS_INLINE_BODY void relu_grad_to(int64_t n, const T* y, const T* dy, T* dst, bool accumulate) {
  if (accumulate)
    relu_bwd_add(n, y, dy, dst);
  else
    relu_bwd(n, y, dy, dst);
}

// The cloned entry points, one per dtype (target_clones does not apply to templates).
#define BTS_CLONED(T)                                                                                        \
  BTS_VECTOR_CLONES void relu_fwd_k(int64_t n, const T* x, T* y) { relu_fwd(n, x, y); }                      \
  BTS_VECTOR_CLONES void add2_k(int64_t n, const T* a, const T* b, T* y) { add2(n, a, b, y); }               \
  BTS_VECTOR_CLONES void add_into_k(int64_t n, const T* src, T* dst) { add_into(n, src, dst); }               \
  BTS_VECTOR_CLONES void add_relu_k(int64_t n, const T* a, const T* b, T* y) { add_relu_fwd(n, a, b, y); }  \
  BTS_VECTOR_CLONES void relu_grad_to_k(int64_t n, const T* y, const T* dy, T* dst, bool accumulate) {      \
    relu_grad_to(n, y, dy, dst, accumulate);                                                               \
  }
BTS_CLONED(float)
BTS_CLONED(double)
#undef BTS_CLONED
}  // namespace

template <typename T> void relu_forward(int64_t n, const T* x, T* y) {
  for_blocks(n, [&](int64_t i, int64_t m) { relu_fwd_k(m, x + i, y + i); });
}

template <typename T> void relu_backward(int64_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  for_blocks(n, [&](int64_t i, int64_t m) { relu_grad_to_k(m, y + i, dy + i, dx + i, accumulate); });
}

template <typename T> void add_forward(int64_t n, const T* a, const T* b, T* y) {
  for_blocks(n, [&](int64_t i, int64_t m) { add2_k(m, a + i, b + i, y + i); });
}

template <typename T> void copy_grad(int64_t n, const T* src, T* dst, bool accumulate) {
  if (accumulate)
    for_blocks(n, [&](int64_t i, int64_t m) { add_into_k(m, src + i, dst + i); });
  else
    for_blocks(n, [&](int64_t i, int64_t m) { std::copy(src + i, src + i + m, dst + i); });
}

template <typename T> void add_relu_forward(int64_t n, const T* a, const T* b, T* y) {
  for_blocks(n, [&](int64_t i, int64_t m) { add_relu_k(m, a + i, b + i, y + i); });
}

// Block by block, each target in turn: the block of y and dy stays in cache for the second target.
template <typename T>
void add_relu_backward(int64_t n, const T* y, const T* dy, T* da, bool accumulate_a, T* db, bool accumulate_b) {
  for_blocks(n, [&](int64_t i, int64_t m) {
    if (da) relu_grad_to_k(m, y + i, dy + i, da + i, accumulate_a);
    if (db) relu_grad_to_k(m, y + i, dy + i, db + i, accumulate_b || db == da);
  });
}

#define BTS_INSTANTIATE(T)                                                  \
  template void add_relu_forward<T>(int64_t, const T*, const T*, T*);       \
  template void add_relu_backward<T>(int64_t, const T*, const T*, T*, bool, T*, bool); \
  template void relu_forward<T>(int64_t, const T*, T*);                     \
  template void relu_backward<T>(int64_t, const T*, const T*, T*, bool);    \
  template void add_forward<T>(int64_t, const T*, const T*, T*);            \
  template void copy_grad<T>(int64_t, const T*, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
