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

// Destination element j's source offset: its (n, c, hw) from the destination's order, then the source's.
__device__ __forceinline__ int64_t source_offset(int64_t j, MemoryOrder from, MemoryOrder to, int64_t C, int64_t HW) {
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
  return element_offset(from, n, c, hw, C, HW);
}

// One thread per destination element (writes coalesce; the reads gather).
template <typename T>
__global__ void relayout_kernel(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW, const T* src,
                                T* dst, bool accumulate) {
  BTS_GRID_STRIDE(j, N * C * HW) put(dst + j, src[source_offset(j, from, to, C, HW)], accumulate);
}

// The same with the element converted: a load that widens exactly, a store that rounds once (elements.cuh), the
// conversion kernels' arithmetic.
template <typename Src, typename Dst>
__global__ void relayout_convert_kernel(MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW,
                                        const Src* src, Dst* dst, bool accumulate) {
  BTS_GRID_STRIDE(j, N * C * HW) store(dst + j, load(src + source_offset(j, from, to, C, HW)), accumulate);
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

template <typename Src, typename Dst>
void relayout_convert(cudaStream_t s, MemoryOrder from, MemoryOrder to, int64_t N, int64_t C, int64_t HW,
                      const Src* src, Dst* dst, bool accumulate) {
  BTS_CHECK(from != MemoryOrder::NCHW16C && to != MemoryOrder::NCHW16C,
            "relayout on the GPU: only NCHW and NHWC (nChw16c is a CPU layout)");
  relayout_convert_kernel<Src, Dst><<<grid_for(N * C * HW), kThreads, 0, s>>>(from, to, N, C, HW, src, dst,
                                                                              accumulate);
  BTS_CUDA_LAUNCH_CHECK("relayout_convert");
}

template void relayout_convert<float, uint16_t>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t,
                                                const float*, uint16_t*, bool);
template void relayout_convert<uint16_t, float>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t,
                                                const uint16_t*, float*, bool);

template void relayout<float>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t, const float*,
                              float*, bool);
template void relayout<uint16_t>(cudaStream_t, MemoryOrder, MemoryOrder, int64_t, int64_t, int64_t,
                                 const uint16_t*, uint16_t*, bool);

}  // namespace bts::kernels::cuda
