#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sgd.h"

namespace bts::kernels::cuda {

namespace {
__global__ void sgd_kernel(int64_t n, float* w, const float* g, float* buf, float lr, float mom, float wd,
                           bool nesterov) {
  BTS_GRID_STRIDE(i, n) sgd_update_one(w[i], g[i], buf[i], lr, mom, wd, nesterov);
}
}  // namespace

void sgd_step(cudaStream_t s, int64_t n, float* w, const float* g, float* buf, const SgdHyper& h) {
  sgd_kernel<<<grid_for(n), kThreads, 0, s>>>(n, w, g, buf, static_cast<float>(h.lr), static_cast<float>(h.momentum),
                                              static_cast<float>(h.weight_decay), h.nesterov);
  BTS_CUDA_LAUNCH_CHECK("sgd_step");
}

}  // namespace bts::kernels::cuda
