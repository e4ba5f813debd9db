#include <cuda_runtime.h>

#include "kernels/common/check.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/augment_batch.h"

namespace bts::kernels::cuda {

namespace {

constexpr int kAugmentThreads = 256;

// Grid: x = batch slot, y = chunks of one sample's c*h*w outputs, taken in the output's memory order (NCHW or NHWC)
// so the writes are contiguous. Every thread recomputes its slot's draw (ten Philox rounds, cheaper than a
// shared-memory broadcast and a barrier).
__global__ void augment_batch_kernel(const uint8_t* __restrict__ images, const int32_t* __restrict__ labels,
                                     int64_t n, int c, int h, int w, const int32_t* __restrict__ idx,
                                     const AugmentArgs* __restrict__ args_at, float* __restrict__ out, int32_t* __restrict__ out_labels,
                                     const uint8_t* __restrict__ gathered, bool channels_last) {
  const AugmentArgs& args = *args_at;
  const int64_t slot = blockIdx.x;
  const int plane = h * w;
  const int per_sample = c * plane;
  const int32_t i = idx[slot];
  const bool valid = i >= 0 && i < n;
  const CropFlip d = slot_crop_flip(args, static_cast<uint32_t>(slot));
  const uint8_t* src =
      gathered ? gathered + slot * per_sample : images + static_cast<int64_t>(valid ? i : 0) * per_sample;
  float* dst = out + slot * per_sample;
  for (int e = blockIdx.y * blockDim.x + threadIdx.x; e < per_sample; e += gridDim.y * blockDim.x) {
    const int ch = channels_last ? e % c : e / plane;
    const int r = channels_last ? e / c : e - ch * plane, y = r / w, x = r - y * w;
    dst[e] = valid ? normalize_pixel(crop_flip_pixel(src + ch * plane, h, w, y, x, d), args.scale[ch],
                                     args.shift[ch])
                   : __int_as_float(0x7fc00000);  // quiet NaN
  }
  if (blockIdx.y == 0 && threadIdx.x == 0) out_labels[slot] = valid ? labels[i] : -1;
}

}  // namespace

void augment_batch(cudaStream_t stream, const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w,
                   const int32_t* idx, int64_t b, const AugmentArgs* args, float* out, int32_t* out_labels,
                   const uint8_t* gathered, MemoryOrder order) {
  BTS_CHECK(c >= 1 && c <= kAugmentMaxChannels, "augment_batch (cuda): " << c << " channels, expected 1.."
                                                                          << kAugmentMaxChannels);
  BTS_CHECK(h > 0 && w > 0 && static_cast<int64_t>(c) * h * w < (int64_t(1) << 31),
            "augment_batch (cuda): bad image shape " << c << "x" << h << "x" << w);
  BTS_CHECK(b >= 0 && b < (int64_t(1) << 31), "augment_batch (cuda): batch of " << b << " samples");
  BTS_CHECK(b == 0 || args != nullptr, "augment_batch (cuda): no arguments");
  check_batch_order("augment_batch (cuda)", order);
  if (b == 0) return;
  const int per_sample = c * h * w;
  const int chunks = (per_sample + kAugmentThreads - 1) / kAugmentThreads;
  const dim3 grid(static_cast<unsigned>(b), static_cast<unsigned>(chunks < 65535 ? chunks : 65535));
  augment_batch_kernel<<<grid, kAugmentThreads, 0, stream>>>(images, labels, n, c, h, w, idx, args, out, out_labels,
                                                              gathered, order == MemoryOrder::NHWC);
  BTS_CUDA_LAUNCH_CHECK("augment_batch_kernel");
}

}  // namespace bts::kernels::cuda
