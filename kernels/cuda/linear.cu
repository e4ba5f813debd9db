#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/linear.h"

namespace bts::kernels::cuda {

namespace {
__global__ void bias_broadcast_kernel(int64_t N, int64_t O, const float* b, float* y) {
  BTS_GRID_STRIDE(i, N * O) y[i] = b[i % O];
}
// One thread per output feature sums its column of dy (N is a batch: small).
__global__ void bias_grad_kernel(int64_t N, int64_t O, const float* dy, float* db, bool accumulate) {
  BTS_GRID_STRIDE(o, O) {
    float acc = 0.f;
    for (int64_t n = 0; n < N; ++n) acc += dy[n * O + o];
    db[o] = accumulate ? db[o] + acc : acc;
  }
}
}  // namespace

// cuBLAS is column-major: a row-major X[r, c] is the column-major X^T. So row-major C = op(A) op(B) is
// column-major C^T = op(B)^T op(A)^T, i.e. cublasSgemm with the operands swapped.
void gemm(Context& ctx, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  BTS_CUBLAS_CHECK(cublasSgemm(ctx.cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)N,
                               (int)M, (int)K, &alpha, B, (int)ldb, A, (int)lda, &beta, C, (int)ldc));
}

void linear_forward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* b, float* y) {
  bias_broadcast_kernel<<<grid_for(s.N * s.O), kThreads, 0, ctx.stream()>>>(s.N, s.O, b, y);
  BTS_CUDA_LAUNCH_CHECK("bias_broadcast");
  gemm(ctx, false, true, s.N, s.O, s.I, 1.f, x, s.I, w, s.I, 1.f, y, s.O);
}

void linear_backward(Context& ctx, const LinearShape& s, const float* x, const float* w, const float* dy, float* dx,
                     float* dw, float* db, bool accumulate_dx, bool accumulate_params) {
  if (dx) gemm(ctx, false, false, s.N, s.I, s.O, 1.f, dy, s.O, w, s.I, accumulate_dx ? 1.f : 0.f, dx, s.I);
  gemm(ctx, true, false, s.O, s.I, s.N, 1.f, dy, s.O, x, s.I, accumulate_params ? 1.f : 0.f, dw, s.I);
  bias_grad_kernel<<<grid_for(s.O), kThreads, 0, ctx.stream()>>>(s.N, s.O, dy, db, accumulate_params);
  BTS_CUDA_LAUNCH_CHECK("bias_grad");
}

}  // namespace bts::kernels::cuda
