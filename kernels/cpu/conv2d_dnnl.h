// Fastest CPU convolution where oneDNN (Debian's libdnnl-dev) is present: oneDNN's JIT kernels for the machine's
// vector units, in the layouts they want (the data is reordered to and from NCHW/KCRS around each call), fp32.
// Same contract as conv2d_*_gemm (conv2d.h), float only (the f64 gradient checks use the reference or GEMM path).
//
// Results do not depend on the thread count: the batch is cut into a fixed number of chunks of consecutive images
// (whatever the thread count), each chunk runs single-threaded primitives made for one thread, and the backward
// filter's per-chunk partial sums are added in chunk order. The threads only share out the chunks.
#pragma once
#include <cstdint>

#include "kernels/common/conv_shape.h"

namespace bts::kernels::cpu {

// Whether this build has oneDNN (BTS_WITH_DNNL); without it the functions below must not be called.
bool dnnl_available();

// The memory layouts of the input (x, dx) and output (y, dy) activations: NCHW, NHWC (channels last) or nChw16c
// (channels in blocks of 16 innermost; the channel count a multiple of 16). Weights are always KCRS. When both
// sides are in the layout oneDNN computes in, nothing is reordered around the convolution but the weights.
enum class DnnlAct : uint8_t { nchw, nhwc, blocked16 };
struct DnnlLayouts {
  DnnlAct x = DnnlAct::nchw, y = DnnlAct::nchw;
};

// Whether oneDNN's fp32 convolutions on this CPU work in 16-channel blocks (AVX-512): then nChw16c activations
// need no reorders. Asked of oneDNN once.
bool dnnl_blocked16_native();

void conv2d_forward_dnnl(const ConvShape& s, DnnlLayouts l, const float* x, const float* w, float* y);
void conv2d_backward_data_dnnl(const ConvShape& s, DnnlLayouts l, const float* dy, const float* w, float* dx,
                               bool accumulate);
void conv2d_backward_filter_dnnl(const ConvShape& s, DnnlLayouts l, const float* x, const float* dy, float* dw,
                                 bool accumulate);

}  // namespace bts::kernels::cpu
