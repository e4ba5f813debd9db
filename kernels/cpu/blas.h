// Row-major GEMM through OpenBLAS's cblas, overloaded for float and double:
// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// Emulation of a GPU's fp32 GEMM arithmetic in the float overload, for tests that derive and prove the GPU
// suites' limits on a machine without a GPU (tests/common/gpu_limits.h). Off by default; process-wide.
//  - tf32: both operands rounded to TF32 (10 explicit mantissa bits) before the fp32-accumulated product, as tensor
//    cores see them. Nearest rounds to nearest, ties away from zero (cvt.rna.tf32.f32); Truncate drops the 13 low
//    bits (what a tensor core does with operands that were not converted first).
//  - noise_ulps: each output element moved by a pseudo-random whole number of ulps in [-n, n], standing in for
//    another summation order (cuDNN's and cuBLAS's kernels sum in other orders than OpenBLAS). The draw hashes the
//    seed, the element's position and its computed bits, so a run is reproducible whatever the thread schedule.
enum class Tf32Rounding { Off, Nearest, Truncate };
struct GemmEmulation {
  Tf32Rounding tf32 = Tf32Rounding::Off;
  int noise_ulps = 0;
  uint64_t seed = 0;
};
void set_gemm_emulation(const GemmEmulation& e);
GemmEmulation gemm_emulation();

// x rounded to TF32 the given way (Off: x itself). Exposed for the emulation's own tests.
float round_to_tf32(float x, Tf32Rounding how);

}  // namespace bts::kernels::cpu
