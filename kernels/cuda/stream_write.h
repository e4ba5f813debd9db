// Small host-to-device writes in stream order, by kernel argument: the host's bytes travel in the launch itself,
// so there is no pageable copy, no host wait, and the host buffer is free on return. A recorded step's inputs that
// change per step (learning rate, augmentation step, mixing draws) are written this way just before its replay.
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>

namespace bts::kernels::cuda {

// Copies `bytes` (<= kMaxStreamWriteBytes, kernels/common/stream_write.h) from host `src` to device `dst` when the
// stream reaches this point.
void write_bytes(cudaStream_t s, void* dst, const void* src, size_t bytes);

}  // namespace bts::kernels::cuda
