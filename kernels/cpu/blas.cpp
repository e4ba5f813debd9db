#include "kernels/cpu/blas.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#ifdef BTS_WITH_OPENBLAS
#include <cblas.h>
#endif

namespace bts::kernels::cpu {

#ifdef BTS_WITH_OPENBLAS
namespace {
// Parallelism comes from our OpenMP loops over images; BLAS calls stay single-threaded so the two never
// oversubscribe the cores.
void single_threaded_blas() {
  static const bool done = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}
}  // namespace

static void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  single_threaded_blas();
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

#else
namespace {
// Fallback when OpenBLAS is absent (the GPU machine): plain loops in i-k-j order, correct and cache-friendly
// enough for the small reference computations the GPU tests need.
template <typename T>
void gemm_loops(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
    for (int64_t k = 0; k < K; ++k) {
      const T a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
      if (tb)
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
      else
        for (int64_t j = 0; j < N; ++j) c[j] += a * B[k * ldb + j];
    }
  }
}
}  // namespace

static void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_loops(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_loops(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

namespace {
GemmEmulation g_emulation;  // set only by tests, before the computations they emulate

uint64_t mix64(uint64_t z) {  // splitmix64's finaliser: a well-spread hash of the element's identity
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The used rows x cols of a matrix with leading dimension ld, rounded to TF32, packed densely (leading dimension
// cols): the operands the emulated tensor core multiplies.
std::vector<float> rounded_copy(const float* m, int64_t rows, int64_t cols, int64_t ld, Tf32Rounding how) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = round_to_tf32(m[r * ld + c], how);
  return out;
}

void add_ulp_noise(int64_t M, int64_t N, float* C, int64_t ldc, const GemmEmulation& e) {
  const uint64_t span = 2 * static_cast<uint64_t>(e.noise_ulps) + 1;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float& c = C[i * ldc + j];
      if (!std::isfinite(c) || c == 0.f) continue;
      uint32_t bits;
      std::memcpy(&bits, &c, sizeof bits);
      const int64_t steps = static_cast<int64_t>(mix64(e.seed ^ mix64((uint64_t(i) << 32) ^ uint64_t(j) ^
                                                                      (uint64_t(bits) << 17))) % span) -
                            e.noise_ulps;
      // Moving the magnitude's bit pattern moves the value by whole ulps (crossing binades is fine).
      const uint32_t mag = (bits & 0x7fffffffu);
      const int64_t moved = std::max<int64_t>(1, std::min<int64_t>(0x7f7fffff, int64_t(mag) + steps));
      bits = (bits & 0x80000000u) | static_cast<uint32_t>(moved);
      std::memcpy(&c, &bits, sizeof bits);
    }
}
}  // namespace

void set_gemm_emulation(const GemmEmulation& e) { g_emulation = e; }
GemmEmulation gemm_emulation() { return g_emulation; }

float round_to_tf32(float x, Tf32Rounding how) {
  if (how == Tf32Rounding::Off || !std::isfinite(x)) return x;
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  constexpr uint32_t kDropped = 0x1fffu;  // fp32 has 23 mantissa bits, TF32 keeps 10: 13 go
  if (how == Tf32Rounding::Nearest) bits += 0x1000u;  // half of the dropped part: ties go away from zero
  bits &= ~kDropped;
  float y;
  std::memcpy(&y, &bits, sizeof y);
  return y;
}

void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const GemmEmulation e = g_emulation;
  if (e.tf32 == Tf32Rounding::Off) {
    gemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    // op(A) is M x K: stored K x M when transposed; op(B) is K x N: stored N x K when transposed.
    const std::vector<float> a = ta ? rounded_copy(A, K, M, lda, e.tf32) : rounded_copy(A, M, K, lda, e.tf32);
    const std::vector<float> b = tb ? rounded_copy(B, N, K, ldb, e.tf32) : rounded_copy(B, K, N, ldb, e.tf32);
    gemm_f32(ta, tb, M, N, K, alpha, a.data(), ta ? M : K, b.data(), tb ? K : N, beta, C, ldc);
  }
  if (e.noise_ulps > 0) add_ulp_noise(M, N, C, ldc, e);
}

}  // namespace bts::kernels::cpu
