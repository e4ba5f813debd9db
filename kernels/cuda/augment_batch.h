// The fused batch builder on the GPU: gather by index, random crop with zero padding, horizontal flip and
// normalisation to float, in one kernel. Formulas in kernels/common/augment.h, shared with the CPU twin
// (kernels/cpu/augment_batch.h), so both produce the same bits for the same (seed, step). The arguments are read
// from device memory when the kernel runs, so a recorded step's replay follows the step the host wrote there.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/common/augment.h"

namespace bts::kernels::cuda {

// All pointers are device memory, `args` included. images: n x c x h x w uint8; labels: n int32; idx: b int32 indices.
// out: b x c x h x w float in `order` (NCHW or NHWC); out_labels: b int32. An index outside [0, n) cannot throw from the device: that
// sample's outputs become NaN and its label -1, so the loss fails loudly instead of reading stray memory.
// Asynchronous on `stream`; launch errors throw (BTS_CUDA_CHECK). gathered (device, optional): slot s's pixels
// come from gathered + s * c*h*w (a batch already gathered in slot order, e.g. by RandAugment) instead of
// images + idx[s] * c*h*w; labels and the index contract still follow idx.
void augment_batch(cudaStream_t stream, const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                   const int32_t* idx, int64_t b, const AugmentArgs* args, float* out, int32_t* out_labels,
                   const uint8_t* gathered = nullptr, MemoryOrder order = MemoryOrder::NCHW);

}  // namespace bts::kernels::cuda
