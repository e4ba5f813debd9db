#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sgd.h"

namespace bts::kernels::cuda {

namespace {
__global__ void sgd_kernel(int64_t n, float* w, const float* g, float* buf, const double* lr_word, float mom,
                           float wd, bool nesterov) {
  // The same double-to-float rounding the CPU twin applies to the same word.
  const float lr = static_cast<float>(*lr_word);
  BTS_GRID_STRIDE(i, n) sgd_update_one(w[i], g[i], buf[i], lr, mom, wd, nesterov);
}

__global__ void write_f64_kernel(double* dst, double value) { *dst = value; }
}  // namespace

void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* buf, const double* lr, const SgdHyper& h) {
  sgd_kernel<<<grid_for(n), kThreads, 0, s>>>(n, w, g, buf, lr, static_cast<float>(h.momentum),
                                              static_cast<float>(h.weight_decay), h.nesterov);
  BTS_CUDA_LAUNCH_CHECK("sgd_step");
}

void write_f64(cudaStream_t s, double* dst, double value) {
  write_f64_kernel<<<1, 1, 0, s>>>(dst, value);
  BTS_CUDA_LAUNCH_CHECK("write_f64");
}

}  // namespace bts::kernels::cuda
