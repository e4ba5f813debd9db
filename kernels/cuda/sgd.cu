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
}  // namespace

void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* buf, const double* lr, const SgdHyper& h) {
  sgd_kernel<<<grid_for(n), kThreads, 0, s>>>(n, w, g, buf, lr, static_cast<float>(h.momentum),
                                              static_cast<float>(h.weight_decay), h.nesterov);
  BTS_CUDA_LAUNCH_CHECK("sgd_step");
}

}  // namespace bts::kernels::cuda
