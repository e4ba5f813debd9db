// An opaque CUDA stream handle. cudaStream_t is a pointer type; carrying it as void* lets C++-only headers
// (data/, engine/) pass streams around without including CUDA headers. nullptr means the default stream.
#pragma once

namespace bts {
using StreamHandle = void*;
}  // namespace bts
