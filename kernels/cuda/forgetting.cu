#include "kernels/common/forgetting.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/forgetting.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {
__global__ void forgetting_kernel(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                                  int64_t K, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  BTS_GRID_STRIDE(j, b) {  // distinct indices in a batch: plain writes are race-free
    const int32_t i = idx[j];
    const bool correct = argmax_row(logits + j * K, K) == labels[j];
    forgetting_update(correct, last_correct + i, ever_correct + i, forgets + i);
  }
}
}  // namespace

void update_forgetting(cudaStream_t s, const float* logits, const int32_t* labels, const int32_t* idx, int64_t b,
                       int64_t K, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  forgetting_kernel<<<grid_for(b), kThreads, 0, s>>>(logits, labels, idx, b, K, last_correct, ever_correct, forgets);
  BTS_CUDA_LAUNCH_CHECK("update_forgetting");
}

}  // namespace bts::kernels::cuda
