// Launch geometry shared by the element-wise kernels: grid-stride loops over 64-bit indices.
#pragma once
#include <algorithm>
#include <cstdint>

namespace bts::kernels::cuda {

constexpr int kThreads = 256;
static_assert(kThreads % 32 == 0, "warp-per-item kernels (pool.cu) rely on whole warps per block");
inline unsigned grid_for(int64_t n) {
  // Enough blocks to fill an H200 (132 SMs x 16 blocks of 256 threads); the loops stride over the rest.
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, 132 * 16)));
}

#define BTS_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

}  // namespace bts::kernels::cuda
