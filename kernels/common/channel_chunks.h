// How the GPU's BatchNorm reductions split a channel (kernels/cuda/batchnorm.cu): channel c of an [N, C, HW]
// tensor is cut into `chunks` runs of whole images, one block per (chunk, channel); thread t of a block of T
// threads takes elements t, t + T, t + 2T, ... of its chunk. The walk keeps the image, the position inside it and
// the memory offset as running values, so no element costs a division. Shared with the CPU tests, which check
// that every (chunk, thread) walk together visits each element of the channel exactly once.
#pragma once
#include <cstdint>

#include "kernels/common/hd.h"

namespace bts::kernels {

// Images [first, last) of chunk p of `chunks` (N images in all).
BTS_HD void chunk_images(int64_t N, int64_t chunks, int64_t p, int64_t* first, int64_t* last) {
  *first = p * N / chunks;
  *last = (p + 1) * N / chunks;
}

// Calls f(offset) for thread t's elements of channel c in images [n0, n1), T threads in all.
template <typename F>
BTS_HD void walk_channel_chunk(int64_t C, int64_t HW, int64_t c, int64_t n0, int64_t n1, int64_t t, int64_t T,
                               F&& f) {
  const int64_t image = C * HW, step_n = T / HW, step_hw = T % HW;
  int64_t n = n0 + t / HW, hw = t % HW;
  int64_t off = n * image + c * HW + hw;
  while (n < n1) {
    f(off);
    n += step_n;
    hw += step_hw;
    off += step_n * image + step_hw;
    if (hw >= HW) {
      hw -= HW;
      ++n;
      off += image - HW;
    }
  }
}

}  // namespace bts::kernels
