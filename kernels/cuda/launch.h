// Launch geometry shared by the element-wise kernels: grid-stride loops over 64-bit indices.
#pragma once
#include <algorithm>
#include <cstdint>

namespace bts::kernels::cuda {

constexpr int kThreads = 256;
static_assert(kThreads % 32 == 0, "warp-per-item kernels (pool.cu) rely on whole warps per block");

// The current device's streaming multiprocessors, asked once per process (a run uses one device, selected before
// its first kernel; kernels/cuda/launch.cu).
int multiprocessor_count();

inline unsigned grid_for(int64_t n) {
  // Enough blocks to fill the GPU (16 blocks of 256 threads per SM); the loops stride over the rest.
  const int64_t cap = static_cast<int64_t>(multiprocessor_count()) * 16;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, cap)));
}

#define BTS_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

}  // namespace bts::kernels::cuda
