// Moving a 4-D activation [N, C, H*W] from one memory layout to another (kernels/common/memory_order.h): what a
// backend runs when a convolution wants its input or weights in another layout than they are in (cuDNN's
// channels-last kernels take NHWC input and KRSC weights). f32, f64 or bf16 bits (uint16_t). With `accumulate` the
// destination is added to (bf16: summed in fp32, rounded once, as every accumulating bf16 gradient is).
#pragma once
#include <cstdint>

#include "kernels/common/memory_order.h"

namespace bts::kernels::cpu {

template <typename T>
void relayout(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src, T* dst,
              bool accumulate);

}  // namespace bts::kernels::cpu
