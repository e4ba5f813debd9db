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

// The move and the f32 <-> bf16 conversion in one pass (Src, Dst: float and uint16_t bf16 bits, either way round):
// each element as kernels/cpu/convert.h converts it (rounded to nearest even; accumulating adds in fp32, rounds
// once). What a bf16 convolution's weights take: the f32 master copy cast straight into the kernels' layout.
template <typename Src, typename Dst>
void relayout_convert(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const Src* src, Dst* dst,
                      bool accumulate);

}  // namespace bts::kernels::cpu
