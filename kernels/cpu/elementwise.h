// ReLU, residual add, and the gradient copy/accumulate they need. Backward writes (overwrite) unless
// accumulate is true.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

template <typename T> void relu_forward(int64_t n, const T* x, T* y);
// Uses the forward *output*: y > 0 exactly where x > 0, so the input need not be kept.
template <typename T> void relu_backward(int64_t n, const T* y, const T* dy, T* dx, bool accumulate);
template <typename T> void add_forward(int64_t n, const T* a, const T* b, T* y);
// dst = src (or dst += src): the backward of a residual add for each of its inputs.
template <typename T> void copy_grad(int64_t n, const T* src, T* dst, bool accumulate);

// y = relu(a + b), bit for bit add_forward then relu_forward.
template <typename T> void add_relu_forward(int64_t n, const T* a, const T* b, T* y);
// g = y > 0 ? dy : 0 (y: add_relu's output) written (or added) to da and to db; either may be null. da and db may be
// the same array (a + a): it then receives g twice.
template <typename T>
void add_relu_backward(int64_t n, const T* y, const T* dy, T* da, bool accumulate_a, T* db, bool accumulate_b);
}  // namespace bts::kernels::cpu
