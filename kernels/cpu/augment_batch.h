// CPU twin of the fused batch builder (kernels/cuda/augment_batch.cu): gathers samples by index, applies the
// random crop/flip of kernels/common/augment.h and normalises to float. Same inputs, same draws, same bits.
#pragma once
#include <cstdint>

#include "kernels/common/augment.h"

namespace bts::kernels::cpu {

// images: n samples of c x h x w uint8 (NCHW); labels: n int32. idx: b sample indices, each in [0, n) (checked:
// throws bts::Error naming the bad slot). out: b x c x h x w float in `order` (NCHW or NHWC); out_labels: b int32.
// Requires c <= 4.
// gathered: when given, slot s's pixels come from gathered + s * c*h*w (a batch already gathered in slot order,
// e.g. by RandAugment) instead of images + idx[s] * c*h*w; labels and index checks still follow idx.
void augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w, const int32_t* idx,
                   int64_t b, const AugmentArgs& args, float* out, int32_t* out_labels,
                   const uint8_t* gathered = nullptr, MemoryOrder order = MemoryOrder::NCHW);

}  // namespace bts::kernels::cpu
