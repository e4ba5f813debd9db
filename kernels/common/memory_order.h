// Where element (n, c, hw) of a 4-D activation [N, C, H*W] sits in memory in each layout the engine stores
// (engine/dtype.h's Layout, same order of values): the one definition the layout conversions on the CPU and the
// GPU index with, so both move every element to the same place.
#pragma once
#include <cstdint>

#include "kernels/common/hd.h"

namespace bts::kernels {

enum class MemoryOrder : int { NCHW = 0, NHWC = 1, NCHW16C = 2 };

// NCHW16C (oneDNN's nChw16c, CPU only) needs C % 16 == 0; the tensor checks that when it is made.
BTS_HD int64_t element_offset(MemoryOrder o, int64_t n, int64_t c, int64_t hw, int64_t C, int64_t HW) {
  switch (o) {
    case MemoryOrder::NHWC: return (n * HW + hw) * C + c;
    case MemoryOrder::NCHW16C: return ((n * (C / 16) + c / 16) * HW + hw) * 16 + (c % 16);
    default: return (n * C + c) * HW + hw;
  }
}

}  // namespace bts::kernels
