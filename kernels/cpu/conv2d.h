// Convolution on the CPU. The *_ref functions are the oracle: direct loops, obviously correct, used in
// double for gradient checks. The *_gemm functions are the fast path (im2col + BLAS gemm) tested against them.
// Backward functions write their output (overwrite) unless accumulate is true, in which case they add to it.
#pragma once
#include "kernels/common/conv_shape.h"

namespace bts::kernels::cpu {

template <typename T> void conv2d_forward_ref(const ConvShape& s, const T* x, const T* w, T* y);
template <typename T> void conv2d_backward_data_ref(const ConvShape& s, const T* dy, const T* w, T* dx, bool accumulate);
template <typename T> void conv2d_backward_filter_ref(const ConvShape& s, const T* x, const T* dy, T* dw, bool accumulate);

template <typename T> void conv2d_forward_gemm(const ConvShape& s, const T* x, const T* w, T* y);
template <typename T> void conv2d_backward_data_gemm(const ConvShape& s, const T* dy, const T* w, T* dx, bool accumulate);
template <typename T> void conv2d_backward_filter_gemm(const ConvShape& s, const T* x, const T* dy, T* dw, bool accumulate);

}  // namespace bts::kernels::cpu
