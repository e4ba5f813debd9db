// The largest host value a backend writes to device memory in stream order by kernel argument
// (Backend::write_bytes): the learning rate, and the per-step arguments of the batch build (augmentation,
// RandAugment's plan, mixing draws). Kernel parameters hold 4 KiB; 1 KiB covers every such struct with room.
#pragma once
#include <cstddef>

namespace bts::kernels {

constexpr size_t kMaxStreamWriteBytes = 1024;

}  // namespace bts::kernels
