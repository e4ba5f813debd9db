// Reading and writing an element of an f32 or bf16 (uint16_t bits) tensor in the kernels that take both: loads
// widen exactly, stores round once to nearest-even (kernels/common/bf16.h), an accumulating bf16 store adds in fp32
// and then rounds once -- the semantics of an f32 kernel between casts (engine/ops.cpp).
#pragma once
#include <cstdint>

#include "kernels/common/bf16.h"
#include "kernels/common/rounded.h"

namespace bts::kernels::cuda {

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const uint16_t* p) { return bf16_to_f32(*p); }
__device__ __forceinline__ void store(float* p, float v, bool accumulate) { *p = accumulate ? *p + v : v; }
__device__ __forceinline__ void store(uint16_t* p, float v, bool accumulate) {
  *p = bf16_round(accumulate ? add_rn(bf16_to_f32(*p), v) : v);
}

}  // namespace bts::kernels::cuda
