// Row-major GEMM through OpenBLAS's cblas, overloaded for float and double:
// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

}  // namespace bts::kernels::cpu
