// RandAugment on the GPU (contract in kernels/cuda/randaugment.h): two launches per op round for the whole batch.
// Why this shape: a point op needs whole-image statistics (histograms) before any pixel can be written, so the
// statistics/table launch and the per-pixel launch are separate; all formulas come from kernels/common/randaugment.h.
#include <cuda_runtime.h>

#include "kernels/common/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/randaugment.h"

namespace bts::kernels::cuda {

namespace {

constexpr int kRaThreads = 256;

// The image a slot reads in this round: the data set through idx (first round), or the previous round's batch.
__device__ const uint8_t* slot_image(const uint8_t* images, const int32_t* idx, int64_t n_images, int64_t slot,
                                     int64_t per_sample) {
  int64_t i = slot;
  if (idx) {
    i = idx[slot];
    if (i < 0 || i >= n_images) i = 0;  // never read stray memory; augment_batch marks the slot invalid
  }
  return images + i * per_sample;
}

// One block per image: histograms in shared memory (integer atomics, so the counts do not depend on the order),
// then one thread per channel builds that channel's table with the shared builder. Images whose op of this round
// is not a point op leave their tables unwritten (the apply kernel does not read them).
__global__ void ra_lut_kernel(const uint8_t* __restrict__ images, const int32_t* __restrict__ idx, int64_t n_images,
                              const RandAugmentPlan* __restrict__ plan, uint32_t round, uint8_t* __restrict__ luts) {
  __shared__ uint32_t hist[3][256];
  const RandAugmentPlan& p = *plan;
  const int64_t slot = blockIdx.x;
  const RaDraw d = draw_randaugment(p.seed, p.step, static_cast<uint32_t>(slot), round, p.h, p.w);
  if (!ra_is_lut_op(d.op)) return;  // the same for the whole block
  const int plane = p.h * p.w;
  const uint8_t* img = slot_image(images, idx, n_images, slot, static_cast<int64_t>(p.c) * plane);
  const RaStats st = ra_stats(d.op);
  if (st != RaStats::None) {
    for (int i = threadIdx.x; i < 3 * 256; i += blockDim.x) (&hist[0][0])[i] = 0u;
    __syncthreads();
    if (st == RaStats::Channel) {
      for (int e = threadIdx.x; e < p.c * plane; e += blockDim.x) atomicAdd(&hist[e / plane][img[e]], 1u);
    } else {
      for (int i = threadIdx.x; i < plane; i += blockDim.x) atomicAdd(&hist[0][ra_grey_at(img, p.c, plane, i)], 1u);
    }
    __syncthreads();
  }
  const int ch = threadIdx.x;
  if (ch < p.c) ra_build_lut(p, d.op, hist[st == RaStats::Channel ? ch : 0], luts + (slot * p.c + ch) * 256);
}

// Grid: x = batch slot, y = chunks of the slot's c*h*w outputs; the op is uniform within a block.
__global__ void ra_apply_kernel(const uint8_t* __restrict__ images, const int32_t* __restrict__ idx, int64_t n_images,
                                const RandAugmentPlan* __restrict__ plan, uint32_t round,
                                const uint8_t* __restrict__ luts, uint8_t* __restrict__ out) {
  const RandAugmentPlan& p = *plan;
  const int64_t slot = blockIdx.x;
  const int plane = p.h * p.w, per_sample = p.c * plane;
  const RaDraw d = draw_randaugment(p.seed, p.step, static_cast<uint32_t>(slot), round, p.h, p.w);
  const uint8_t* img = slot_image(images, idx, n_images, slot, per_sample);
  const uint8_t* lut = luts + slot * p.c * 256;
  uint8_t* dst = out + slot * per_sample;
  for (int e = blockIdx.y * blockDim.x + threadIdx.x; e < per_sample; e += gridDim.y * blockDim.x) {
    const int ch = e / plane, r = e - ch * plane, y = r / p.w, x = r - y * p.w;
    dst[e] = ra_pixel(p, d, img, lut, ch, y, x);
  }
}

}  // namespace

size_t randaugment_scratch_bytes(int64_t b, int c, int h, int w, int n) {
  const size_t luts = static_cast<size_t>(b) * c * 256;
  return luts + (n >= 2 ? static_cast<size_t>(b) * c * h * w : 0);
}

void randaugment_batch(cudaStream_t stream, const uint8_t* images, int64_t n_images, const int32_t* idx, int64_t b,
                       int c, int h, int w, int rounds, const RandAugmentPlan* plan, uint8_t* out,
                       uint8_t* scratch, size_t scratch_bytes) {
  BTS_CHECK(c == 1 || c == 3, "randaugment (cuda): " << c << " channels, expected 1 (grey) or 3 (RGB)");
  BTS_CHECK(h >= 1 && w >= 1 && h <= kRandAugmentMaxSide && w <= kRandAugmentMaxSide,
            "randaugment (cuda): image " << h << "x" << w << ", expected sides in 1.." << kRandAugmentMaxSide);
  BTS_CHECK(rounds >= 1 && rounds <= kRandAugmentMaxN,
            "randaugment (cuda): N = " << rounds << ", expected 1.." << kRandAugmentMaxN);
  BTS_CHECK(b == 0 || plan != nullptr, "randaugment (cuda): no plan");
  BTS_CHECK(b >= 0 && b < (int64_t(1) << 31), "randaugment (cuda): batch of " << b << " images");
  BTS_CHECK(idx ? (b == 0 || n_images >= 1) : n_images >= b,
            "randaugment (cuda): " << b << " slots but " << n_images << " images");
  const size_t need = randaugment_scratch_bytes(b, c, h, w, rounds);
  BTS_CHECK(scratch_bytes >= need && (need == 0 || scratch != nullptr),
            "randaugment (cuda): scratch of " << scratch_bytes << " bytes, need " << need);
  if (b == 0) return;
  const int per_sample = c * h * w;
  uint8_t* luts = scratch;
  uint8_t* tmp = scratch + static_cast<size_t>(b) * c * 256;
  const int chunks = (per_sample + kRaThreads - 1) / kRaThreads;
  const dim3 grid(static_cast<unsigned>(b), static_cast<unsigned>(chunks < 65535 ? chunks : 65535));
  // Round r writes `out` when an even number of rounds follow it, so the last round always ends in `out` and no
  // round reads the buffer it writes.
  const uint8_t* src = images;
  const int32_t* src_idx = idx;
  int64_t src_n = n_images;
  for (int r = 0; r < rounds; ++r) {
    uint8_t* dst = (rounds - 1 - r) % 2 == 0 ? out : tmp;
    ra_lut_kernel<<<static_cast<unsigned>(b), kRaThreads, 0, stream>>>(src, src_idx, src_n, plan,
                                                                         static_cast<uint32_t>(r), luts);
    BTS_CUDA_LAUNCH_CHECK("ra_lut_kernel");
    ra_apply_kernel<<<grid, kRaThreads, 0, stream>>>(src, src_idx, src_n, plan, static_cast<uint32_t>(r), luts, dst);
    BTS_CUDA_LAUNCH_CHECK("ra_apply_kernel");
    src = dst;
    src_idx = nullptr;
    src_n = b;
  }
}

}  // namespace bts::kernels::cuda
