// Standard augmentation of one batch (random crop with zero padding, horizontal flip, normalisation), as the
// formulas that the CPU twin (kernels/cpu/augment_batch.cpp) and the CUDA kernel (kernels/cuda/augment_batch.cu)
// both call. Keeping the random draw and the per-pixel value in these few BTS_HD functions is what makes the two
// sides bit-identical: same Philox words, same integer geometry, one explicit fmaf per output value.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/check.h"
#include "kernels/common/hd.h"
#include "kernels/common/memory_order.h"
#include "kernels/common/philox.h"

namespace bts::kernels {

// At most this many channels (RGB or grey): per-channel constants travel by value into the kernel.
constexpr int kAugmentMaxChannels = 4;
// Fourth Philox counter word of every augmentation draw ("aug1"), so the crop/flip stream of a seed never
// overlaps another use of the same seed (e.g. bts::Rng streams, which put their stream id there).
constexpr uint32_t kAugmentStreamTag = 0x61756731u;

// Everything the batch builder needs besides the data pointers.
struct AugmentArgs {
  uint64_t seed = 0;   // per run
  uint64_t step = 0;   // per batch (iteration counter)
  int pad = 4;         // zero padding of the random crop; offsets are drawn in [-pad, pad]
  bool flip = true;    // horizontal flips allowed (false for SVHN)
  bool augment = true; // false: no crop, no flip, only normalisation (test batches)
  // out = fmaf(pixel, scale[c], shift[c]) with scale = 1/(255 std), shift = -mean/std, computed once on the host.
  float scale[kAugmentMaxChannels] = {};
  float shift[kAugmentMaxChannels] = {};
};

// The geometric part of one sample's augmentation: output pixel (y, x) reads source pixel
// (y + dy, (flip ? W-1-x : x) + dx), or a zero pixel when that falls outside the image.
// This is torchvision's RandomCrop(size, padding=pad) followed by RandomHorizontalFlip: the crop's top-left
// corner in the padded image is (pad + dy, pad + dx).
struct CropFlip {
  int dy = 0;
  int dx = 0;
  bool flip = false;
};

// Maps a uniform 32-bit word to [0, n) by the high half of the 64-bit product: bias below n / 2^32.
BTS_HD uint32_t scale_to_range(uint32_t u, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(u) * n) >> 32);
}

// The random draw of batch slot `slot` at (seed, step). Counter = (slot, step low, step high, tag), key = seed;
// word 0 -> dy, word 1 -> dx, top bit of word 2 -> flip. Depends on nothing else, so any device reproduces it.
BTS_HD CropFlip draw_crop_flip(uint64_t seed, uint64_t step, uint32_t slot, int pad, bool allow_flip) {
  const Philox4 r = philox4x32_10(slot, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32),
                                  kAugmentStreamTag, seed);
  const uint32_t n = static_cast<uint32_t>(2 * pad + 1);
  CropFlip d;
  d.dy = static_cast<int>(scale_to_range(r.v[0], n)) - pad;
  d.dx = static_cast<int>(scale_to_range(r.v[1], n)) - pad;
  d.flip = allow_flip && (r.v[2] >> 31) != 0u;
  return d;
}

// The draw actually applied to a slot: the identity when augmentation is off.
BTS_HD CropFlip slot_crop_flip(const AugmentArgs& a, uint32_t slot) {
  return a.augment ? draw_crop_flip(a.seed, a.step, slot, a.pad, a.flip) : CropFlip{};
}

// Source pixel value for output (y, x) of one h x w channel plane: 0 outside the image (the zero padding).
BTS_HD uint8_t crop_flip_pixel(const uint8_t* plane, int h, int w, int y, int x, const CropFlip& d) {
  const int sy = y + d.dy;
  const int sx = (d.flip ? w - 1 - x : x) + d.dx;
  return (sy >= 0 && sy < h && sx >= 0 && sx < w) ? plane[sy * w + sx] : static_cast<uint8_t>(0);
}

// The layouts the batch kernels write (and cutout and RICAP read): per sample c x h x w (NCHW), or h x w x c (NHWC,
// channels last: the layout the GPU's bf16 and channels-last convolutions take, so the step does not transpose its
// input). Channel ch of pixel p = y * w + x of one sample sits at ch * channel + p * pixel.
struct ImageStrides {
  int64_t channel, pixel;
};
BTS_HD ImageStrides image_strides(MemoryOrder order, int c, int64_t plane) {
  return order == MemoryOrder::NHWC ? ImageStrides{1, c} : ImageStrides{plane, 1};
}
inline void check_batch_order(const char* op, MemoryOrder order) {
  BTS_CHECK(order == MemoryOrder::NCHW || order == MemoryOrder::NHWC,
            op << ": batches are written NCHW or NHWC, not memory order " << static_cast<int>(order));
}

// Normalisation: one correctly rounded fused multiply-add, identical on host (libm fmaf) and device.
BTS_HD float normalize_pixel(uint8_t p, float scale, float shift) {
  return fmaf(static_cast<float>(p), scale, shift);
}

}  // namespace bts::kernels
