#include "kernels/common/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/elements.cuh"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/relayout.h"

namespace bts::kernels::cuda {

namespace {
// A moved element: its bits as they are (NaN payloads too), or added in fp32 (kernels/cuda/elements.cuh).
template <typename T>
__device__ __forceinline__ void put(T* p, T v, bool accumulate) {
  if (accumulate)
    store(p, load(&v), true);
  else
    *p = v;
}

// One thread per destination element (writes coalesce; the reads gather): its (n, c, hw) from the destination's
// order, its source offset from the source's.
template <typename T>
__global__ void relayout_kernel(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src,
                                T* dst, bool accumulate) {
  BTS_GRID_STRIDE(j, N * C * HW) {
    int64_t n, c, hw;
    if (to == MemoryOrder::NHWC) {
      c = j % C;
      hw = (j / C) % HW;
      n = j / (C * HW);
    } else {
      hw = j % HW;
      c = (j / HW) % C;
      n = j / (C * HW);
    }
    put(dst + j, src[element_offset(from, n, c, hw, C, HW)], accumulate);
  }
}
}  // namespace

template <typename T>
void relayout(cudaStream_t s, MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src,
              T* dst, bool accumulate) {
  BTS_CHECK(from != MemoryOrder::NCHW16C && to != MemoryOrder::NCHW16C,
            "relayout on the GPU: only NCHW and NHWC (nChw16c is a CPU layout)");
  relayout_kernel<T><<<grid_for(N * C * HW), kThreads, 0, s>>>(from, to, N, C, HW, src, dst, accumulate);
  BTS_CUDA_LAUNCH_CHECK("relayout");
}

template void relayout<float>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const float*,
                              float*, bool);
template void relayout<uint16_t>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t,
                                 const uint16_t*, uint16_t*, bool);

}  // namespace bts::kernels::cuda
