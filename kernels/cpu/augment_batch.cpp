#include "kernels/cpu/augment_batch.h"

#include "kernels/common/check.h"

namespace bts::kernels::cpu {

void augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w, const int32_t* idx,
                   int64_t b, const AugmentArgs& args, float* out, int32_t* out_labels, const uint8_t* gathered) {
  BTS_CHECK(c >= 1 && c <= kAugmentMaxChannels, "augment_batch: " << c << " channels, expected 1.."
                                                                   << kAugmentMaxChannels);
  BTS_CHECK(h > 0 && w > 0 && b >= 0, "augment_batch: bad shape h=" << h << " w=" << w << " batch=" << b);
  for (int64_t s = 0; s < b; ++s)
    BTS_CHECK(idx[s] >= 0 && idx[s] < n,
              "augment_batch: index " << idx[s] << " in batch slot " << s << " is outside the data set [0, " << n
                                      << ")");
  const int64_t plane = static_cast<int64_t>(h) * w, per_sample = c * plane;
  // Samples are independent; the result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < b; ++s) {
    const CropFlip d = slot_crop_flip(args, static_cast<uint32_t>(s));
    const uint8_t* src = gathered ? gathered + s * per_sample : images + idx[s] * per_sample;
    float* dst = out + s * per_sample;
    for (int ch = 0; ch < c; ++ch) {
      const uint8_t* p = src + ch * plane;
      float* q = dst + ch * plane;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          q[y * w + x] = normalize_pixel(crop_flip_pixel(p, h, w, y, x, d), args.scale[ch], args.shift[ch]);
    }
    out_labels[s] = labels[idx[s]];
  }
}

}  // namespace bts::kernels::cpu
