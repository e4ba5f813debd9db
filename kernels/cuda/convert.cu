#include "kernels/common/bf16.h"
#include "kernels/common/rounded.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/launch.h"

namespace bts::kernels::cuda {

namespace {
__global__ void f32_to_bf16_kernel(int64_t n, const float* src, uint16_t* dst, bool accumulate) {
  BTS_GRID_STRIDE(i, n) dst[i] = bf16_round(accumulate ? add_rn(bf16_to_f32(dst[i]), src[i]) : src[i]);
}
__global__ void bf16_to_f32_kernel(int64_t n, const uint16_t* src, float* dst, bool accumulate) {
  BTS_GRID_STRIDE(i, n) {
    const float v = bf16_to_f32(src[i]);
    dst[i] = accumulate ? add_rn(dst[i], v) : v;
  }
}
}  // namespace

void convert_f32_to_bf16(cudaStream_t s, int64_t n, const float* src, uint16_t* dst, bool accumulate) {
  f32_to_bf16_kernel<<<grid_for(n), kThreads, 0, s>>>(n, src, dst, accumulate);
  BTS_CUDA_LAUNCH_CHECK("convert_f32_to_bf16");
}

void convert_bf16_to_f32(cudaStream_t s, int64_t n, const uint16_t* src, float* dst, bool accumulate) {
  bf16_to_f32_kernel<<<grid_for(n), kThreads, 0, s>>>(n, src, dst, accumulate);
  BTS_CUDA_LAUNCH_CHECK("convert_bf16_to_f32");
}

}  // namespace bts::kernels::cuda
