// The mixing augmentations on the GPU: mixup and RICAP (two launches each: targets with the batch permutations, then
// pixels) and cutout (one launch, in place). Formulas in kernels/common/mixing.h, shared with the CPU twins
// (kernels/cpu/mixing.h): for the same inputs and arguments both produce the same bits. The per-batch arguments
// come from the host functions make_mixup_args / make_ricap_args / make_cutout_args (RICAP's checked with
// check_ricap_args) and are read from device memory when the kernels run, so a recorded step's replay uses the
// draws the host wrote there for that step; nothing is copied back.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/mixing.h"

namespace bts::kernels::cuda {

// All pointers are device memory (the argument structs too), shapes and outputs as in kernels/cpu/mixing.h: images, out b x c x h x w float
// (out must not alias images); labels b int32; labels_out, source_slot b x M int32; label_weights b x M float
// (M = 2 mixup, 4 RICAP). Requires 0 <= b <= kMixMaxBatch. Asynchronous on `stream`; bad shapes, a missing
// argument pointer and launch errors throw. The argument values are on the device and are not checked here: check
// them where they are made (BatchMixer::set_step runs check_ricap_args; make_cutout_args takes a size >= 0).
void mixup_batch(cudaStream_t stream, const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                 const MixupArgs* args, float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot);
// RICAP and cutout take the batch's memory order (NCHW or NHWC); mixup mixes whole images, so it is the same in either.
void ricap_batch(cudaStream_t stream, const float* images, const int32_t* labels, int64_t b, int c, int h, int w,
                 const RicapArgs* args, float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot,
                 MemoryOrder order = MemoryOrder::NCHW);
// In place on images (b x c x h x w float).
void cutout_batch(cudaStream_t stream, float* images, int64_t b, int c, int h, int w, const CutoutArgs* args,
                  MemoryOrder order = MemoryOrder::NCHW);

}  // namespace bts::kernels::cuda
