// ReLU, residual add and gradient copy/accumulate on the GPU; semantics of kernels/cpu/elementwise.h. fp32 or bf16
// (T = float, or uint16_t holding bf16 bits): bf16 is the fp32 kernel between casts (inputs widen exactly, each
// output rounds once; an accumulating output adds in fp32, then rounds). Element by element, so layout-free.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

// T is taken from the inputs only: an absent gradient may be a plain nullptr.
template <typename T>
struct ElementwiseElement {
  using type = T;
};

template <typename T>
void relu_forward(cudaStream_t s, int64_t n, const T* x, T* y);
template <typename T>
void relu_backward(cudaStream_t s, int64_t n, const T* y, const T* dy, T* dx, bool accumulate);
template <typename T>
void add_forward(cudaStream_t s, int64_t n, const T* a, const T* b, T* y);
template <typename T>
void copy_grad(cudaStream_t s, int64_t n, const T* src, T* dst, bool accumulate);
// The residual join relu(a + b) in one pass, and its backward in one pass: g = (y > 0 ? dy : 0) written (or added)
// to both inputs' gradients (either may be null). The bits of add, ReLU and two gradient copies.
template <typename T>
void add_relu_forward(cudaStream_t s, int64_t n, const T* a, const T* b, T* y);
template <typename T>
void add_relu_backward(cudaStream_t s, int64_t n, const T* y, const T* dy, typename ElementwiseElement<T>::type* da,
                       bool accumulate_a, typename ElementwiseElement<T>::type* db, bool accumulate_b);

}  // namespace bts::kernels::cuda
