// RandAugment of a batch on the GPU: per op round, one launch that builds every image's lookup tables (histograms
// in shared memory for AutoContrast, Equalize and Contrast) and one launch that writes every output pixel,
// ping-ponging between the output and one scratch batch. Why: the data set never leaves the GPU, and the per-pixel
// formulas are the ones in kernels/common/randaugment.h, so the result equals the CPU twin
// (kernels/cpu/randaugment.h) byte for byte. The plan (magnitudes and the step's draw key) is read from device
// memory when the kernels run, so a recorded step's replay follows the step the host wrote there.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/common/randaugment.h"

namespace bts::kernels::cuda {

// Device scratch that randaugment_batch needs for b images of c x h x w with n ops per image: one batch of
// intermediate images when n >= 2, plus b x c lookup tables of 256 bytes. Allocate it once and reuse it.
size_t randaugment_scratch_bytes(int64_t b, int c, int h, int w, int n);

// All pointers are device memory. `plan` (device): make_checked_randaugment_plan(args, c, h, w) for this batch,
// with `rounds` = args.n, the ops per image. Slot s reads images + idx[s] * c*h*w (idx: b int32 indices), or
// images + s * c*h*w when idx is null (then n_images >= b). An index outside [0, n_images) cannot throw from the
// device: that slot reads image 0 instead (augment_batch then turns the slot into NaN, label -1).
// out: b x c x h x w bytes, not overlapping the input or the scratch. scratch: randaugment_scratch_bytes(...)
// bytes (checked against scratch_bytes). Asynchronous on `stream`; bad shapes, N, a missing plan and launch errors
// throw; the plan is on the device and must be the one made for this c, h, w and N (DeviceDataset keeps them
// together).
void randaugment_batch(cudaStream_t stream, const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b,
                       int c, int h, int w, int rounds, const RandAugmentPlan* plan, uint8_t* out,
                       uint8_t* scratch, size_t scratch_bytes);

}  // namespace bts::kernels::cuda
