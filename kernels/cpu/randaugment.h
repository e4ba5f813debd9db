// CPU twin of the RandAugment kernels (kernels/cuda/randaugment.cu): the same draws, lookup tables and per-pixel
// formulas (kernels/common/randaugment.h), one image at a time. It exists as the oracle the GPU is tested against
// byte for byte, and so that CPU runs augment exactly like GPU runs.
#pragma once
#include <cstdint>

#include "kernels/common/randaugment.h"

namespace bts::kernels::cpu {

// RandAugment of a batch of uint8 NCHW images (c = 1 or 3). Slot s reads images + idx[s] * c*h*w (idx: b
// indices, each in [0, n), checked: throws bts::Error naming the slot), or images + s * c*h*w when idx is null
// (then n >= b). Writes b x c x h x w bytes to out (not overlapping the input). Each slot's ops depend only on
// (args.seed, args.step, s). Throws for c other than 1 or 3, sides outside 1..kRandAugmentMaxSide, n outside
// 1..kRandAugmentMaxN or m outside 0..kRandAugmentMaxM.
void randaugment_batch(const uint8_t* images, int64_t n, const int32_t* idx, int64_t b, int c, int h, int w,
                       const RandAugmentArgs& args, uint8_t* out);

// The same with the plan made (make_checked_randaugment_plan: the shape and N come from it); what the CPU
// backend runs, since the trainer keeps the plan in (host) device memory.
void randaugment_batch(const uint8_t* images, int64_t n, const int32_t* idx, int64_t b, const RandAugmentPlan& plan,
                       uint8_t* out);

// The same for an already gathered batch: src holds b images.
void randaugment_batch(const uint8_t* src, uint8_t* dst, int64_t b, int c, int h, int w, const RandAugmentArgs& args);

// One op (d.op, with d's sign and cutout centre) on one c x h x w image of the plan's shape: dst = op(src).
// src and dst must not overlap. This is what each round of randaugment_batch does; tests call it per op.
void randaugment_image(const RandAugmentPlan& plan, const RaDraw& d, const uint8_t* src, uint8_t* dst);

}  // namespace bts::kernels::cpu
