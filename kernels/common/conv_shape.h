// Geometry of a 2-D convolution in NCHW with KCRS weights (PyTorch's layout), no bias, no dilation, no groups.
#pragma once
#include <cstdint>

#include "kernels/common/hd.h"

namespace bts::kernels {

BTS_HD int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}

struct ConvShape {
  int64_t N, C, H, W;  // input
  int64_t K, R, S;     // output channels, kernel height, kernel width
  int64_t stride, pad;
  int64_t P() const { return conv_out_size(H, R, stride, pad); }
  int64_t Q() const { return conv_out_size(W, S, stride, pad); }
};

}  // namespace bts::kernels
