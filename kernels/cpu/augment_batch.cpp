#include "kernels/cpu/augment_batch.h"

#include "kernels/common/check.h"
#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

namespace {
// One sample's crop, flip and normalisation, written in either layout (strides: kernels/common/augment.h). Cloned
// for the machine's vector units (vector_isa.h): normalize_pixel's fmaf is then one FMA instruction instead of
// glibc's software routine; both round once, so the bits are the same.
BTS_VECTOR_CLONES void augment_sample(const uint8_t* src, int c, int h, int w, const CropFlip& d, const float* scale,
                                      const float* shift, ImageStrides out, float* dst) {
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (int ch = 0; ch < c; ++ch) {
    const uint8_t* p = src + ch * plane;
    float* q = dst + ch * out.channel;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        q[(static_cast<int64_t>(y) * w + x) * out.pixel] =
            normalize_pixel(crop_flip_pixel(p, h, w, y, x, d), scale[ch], shift[ch]);
  }
}
}  // namespace

void augment_batch(const uint8_t* images, const int32_t* labels, int64_t n, int c, int h, int w, const int32_t* idx,
                   int64_t b, const AugmentArgs& args, float* out, int32_t* out_labels, const uint8_t* gathered,
                   MemoryOrder order) {
  BTS_CHECK(c >= 1 && c <= kAugmentMaxChannels, "augment_batch: " << c << " channels, expected 1.."
                                                                   << kAugmentMaxChannels);
  BTS_CHECK(h > 0 && w > 0 && b >= 0, "augment_batch: bad shape h=" << h << " w=" << w << " batch=" << b);
  check_batch_order("augment_batch", order);
  for (int64_t s = 0; s < b; ++s)
    BTS_CHECK(idx[s] >= 0 && idx[s] < n,
              "augment_batch: index " << idx[s] << " in batch slot " << s << " is outside the data set [0, " << n
                                      << ")");
  const int64_t plane = static_cast<int64_t>(h) * w, per_sample = c * plane;
  const ImageStrides strides = image_strides(order, c, plane);
  // Samples are independent; the result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < b; ++s) {
    const CropFlip d = slot_crop_flip(args, static_cast<uint32_t>(s));
    const uint8_t* src = gathered ? gathered + s * per_sample : images + idx[s] * per_sample;
    augment_sample(src, c, h, w, d, args.scale, args.shift, strides, out + s * per_sample);
    out_labels[s] = labels[idx[s]];
  }
}

}  // namespace bts::kernels::cpu
