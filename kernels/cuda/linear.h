// Linear layer on the GPU: cuBLAS SGEMM (TF32 when the context allows) plus bias kernels; semantics of
// kernels/cpu/linear.h (y = x W^T + b, W is [O, I]).
#pragma once
#include <cstdint>

#include "kernels/cuda/context.h"

namespace bts::kernels::cuda {

struct LinearShape {
  int64_t N, I, O;
};

void linear_forward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* b, float* y);
// dx may be null (input needs no gradient).
void linear_backward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, bool accumulate_dx, bool accumulate_params);
// Row-major C[M,N] = alpha op(A) op(B) + beta C, the same contract as kernels/cpu/blas.h.
void gemm(Context& ctx, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace bts::kernels::cuda
