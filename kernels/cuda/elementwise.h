// ReLU, residual add and gradient copy/accumulate on the GPU (fp32); semantics of kernels/cpu/elementwise.h.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

void relu_forward(cudaStream_t s, int64_t n, const float* x, float* y);
void relu_backward(cudaStream_t s, int64_t n, const float* y, const float* dy, float* dx, bool accumulate);
void add_forward(cudaStream_t s, int64_t n, const float* a, const float* b, float* y);
void copy_grad(cudaStream_t s, int64_t n, const float* src, float* dst, bool accumulate);
// The residual join relu(a + b) in one pass, and its backward in one pass: g = (y > 0 ? dy : 0) written (or added)
// to both inputs' gradients (either may be null). The bits of add, ReLU and two gradient copies.
void add_relu_forward(cudaStream_t s, int64_t n, const float* a, const float* b, float* y);
void add_relu_backward(cudaStream_t s, int64_t n, const float* y, const float* dy, float* da, bool accumulate_a,
                       float* db, bool accumulate_b);

}  // namespace bts::kernels::cuda
