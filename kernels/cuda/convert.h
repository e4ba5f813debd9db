// Precision conversion between fp32 and bf16 on the GPU; semantics (and rounding functions) of
// kernels/cpu/convert.h.
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

void convert_f32_to_bf16(cudaStream_t s, int64_t n, const float* src, uint16_t* dst, bool accumulate);
void convert_bf16_to_f32(cudaStream_t s, int64_t n, const uint16_t* src, float* dst, bool accumulate);

}  // namespace bts::kernels::cuda
