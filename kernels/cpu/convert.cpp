#include "kernels/cpu/convert.h"

#include "kernels/common/bf16.h"
#include "kernels/common/rounded.h"

namespace bts::kernels::cpu {

void convert_f32_to_bf16(int64_t n, const float* src, uint16_t* dst, bool accumulate) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_round(accumulate ? add_rn(bf16_to_f32(dst[i]), src[i]) : src[i]);
}

void convert_bf16_to_f32(int64_t n, const uint16_t* src, float* dst, bool accumulate) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const float v = bf16_to_f32(src[i]);
    dst[i] = accumulate ? add_rn(dst[i], v) : v;
  }
}

}  // namespace bts::kernels::cpu
