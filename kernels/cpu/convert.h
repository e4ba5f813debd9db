// Precision conversion between fp32 and bf16 (kernels/common/bf16.h), element by element: the casts of mixed
// precision. With `accumulate` the destination is added to: dst = convert(dst + src), summed in fp32 and rounded
// once, as a bf16 gradient written with beta = 1 by cuDNN or cuBLAS.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

void convert_f32_to_bf16(int64_t n, const float* src, uint16_t* dst, bool accumulate);
void convert_bf16_to_f32(int64_t n, const uint16_t* src, float* dst, bool accumulate);

}  // namespace bts::kernels::cpu
