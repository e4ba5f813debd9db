// Explicitly rounded arithmetic for the formulas the CPU and the GPU must compute bit for bit. nvcc contracts
// a * b + c into one fused multiply-add (a single rounding) unless told not to; the host compiler is told not to
// (-ffp-contract=off, CMakeLists.txt), so without these a CUDA kernel and its CPU twin round differently. On the
// device they are the round-to-nearest intrinsics nvcc never fuses; on the host plain operations.
#pragma once
#include "kernels/common/hd.h"

namespace bts::kernels {

#if defined(__CUDA_ARCH__)
BTS_HD float mul_rn(float a, float b) { return __fmul_rn(a, b); }
BTS_HD float add_rn(float a, float b) { return __fadd_rn(a, b); }
BTS_HD double mul_rn(double a, double b) { return __dmul_rn(a, b); }
BTS_HD double add_rn(double a, double b) { return __dadd_rn(a, b); }
#else
BTS_HD float mul_rn(float a, float b) { return a * b; }
BTS_HD float add_rn(float a, float b) { return a + b; }
BTS_HD double mul_rn(double a, double b) { return a * b; }
BTS_HD double add_rn(double a, double b) { return a + b; }
#endif

}  // namespace bts::kernels
