// Layout conversion of a 4-D activation [N, C, H*W] on the GPU, NCHW <-> NHWC (the GPU never stores nChw16c);
// semantics of kernels/cpu/relayout.h (f32 or bf16 bits; an accumulating bf16 destination adds in fp32 and rounds
// once).
#pragma once
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/common/memory_order.h"

namespace bts::kernels::cuda {

template <typename T>
void relayout(cudaStream_t s, MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src,
              T* dst, bool accumulate);

// The move and the f32 <-> bf16 conversion in one pass (kernels/cpu/relayout.h's relayout_convert; Src, Dst: float
// and uint16_t, either way round), each element converted as kernels/cuda/convert.h converts it.
template <typename Src, typename Dst>
void relayout_convert(cudaStream_t s, MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW,
                      const Src* src, Dst* dst, bool accumulate);

}  // namespace bts::kernels::cuda
