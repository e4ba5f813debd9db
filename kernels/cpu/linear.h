// Fully connected layer y[N, O] = x[N, I] * W[O, I]^T + b[O] (PyTorch's weight layout).
// *_ref: plain loops (the oracle); *_gemm: OpenBLAS. Backward writes unless accumulate.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

struct LinearShape {
  int64_t N, I, O;
};

template <typename T> void linear_forward_ref(const LinearShape& s, const T* x, const T* w, const T* b, T* y);
template <typename T>
void linear_backward_ref(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
                         bool accumulate_dx, bool accumulate_params);
template <typename T> void linear_forward_gemm(const LinearShape& s, const T* x, const T* w, const T* b, T* y);
template <typename T>
void linear_backward_gemm(const LinearShape& s, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
                          bool accumulate_dx, bool accumulate_params);

}  // namespace bts::kernels::cpu
