// CPU twins of the mixing kernels (kernels/cuda/mixing.cu): mixup and RICAP combine the images of one normalised
// batch and emit the [b, M] target matrices the soft-label loss takes; cutout zeroes one square per image in place.
// The per-batch arguments come from kernels/common/mixing.h (make_mixup_args, make_ricap_args, make_cutout_args).
// Same inputs, same arguments, same bits as the GPU.
#pragma once
#include <cstdint>

#include "kernels/common/mixing.h"

namespace bts::kernels::cpu {

// images: b x c x h x w float (NCHW or NHWC: mixup mixes whole images, so either gives the same bits in its own
// layout), labels: b int32. out: b x c x h x w float in the same layout, a different buffer from images.
// labels_out, source_slot: b x 2 int32; label_weights: b x 2 float. Row i: column 0 = (labels[i], lambda, slot i),
// column 1 = (labels[p], 1 - lambda, slot p) with p = perm(i). Requires 0 <= b <= kMixMaxBatch (throws otherwise).
void mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w, const MixupArgs& args,
                 float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot);

// As mixup_batch, with b x 4 target matrices: column k = (labels[p_k], weight[k], slot p_k), p_k = perm_k(i), for
// the tiles k = top-left, top-right, bottom-left, bottom-right. args must come from make_ricap_args(.., h, w, ..).
// images and out are in `order` (NCHW or NHWC).
void ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w, const RicapArgs& args,
                 float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot,
                 MemoryOrder order = MemoryOrder::NCHW);

// In place: zeroes every channel of each slot's cutout_box in a batch in `order` (NCHW or NHWC). size 0 leaves the
// batch unchanged.
void cutout_batch(float* images, int64_t b, int c, int h, int w, const CutoutArgs& args,
                  MemoryOrder order = MemoryOrder::NCHW);

// The permutation k of a b-slot batch at (seed, step), as the kernels compute it: perm[i] = rank of slot i's key.
void mix_permutation(uint64_t seed, uint64_t step, int k, int64_t b, int32_t* perm);

}  // namespace bts::kernels::cpu
