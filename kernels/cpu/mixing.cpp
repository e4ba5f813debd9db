#include "kernels/cpu/mixing.h"

#include <vector>

#include "kernels/common/check.h"
#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

void mix_permutation(uint64_t seed, uint64_t step, int k, int64_t b, int32_t* perm) {
  BTS_CHECK(b >= 0 && k >= 0, "mix_permutation: batch of " << b << ", permutation " << k);
  std::vector<uint64_t> keys(static_cast<size_t>(b));
  for (int64_t j = 0; j < b; ++j) keys[j] = mix_permutation_key(seed, step, k, j);
  for (int64_t i = 0; i < b; ++i) perm[i] = permutation_rank(keys.data(), b, i);
}

namespace {
// One sample's mixup, cloned for the machine's vector units (vector_isa.h): mixup_pixel's fmaf becomes one FMA
// instruction; it rounds once either way, so the bits are the same.
BTS_VECTOR_CLONES void mixup_sample(const MixupArgs& args, const float* own, const float* partner, int64_t n,
                                    float* dst) {
  for (int64_t e = 0; e < n; ++e) dst[e] = mixup_pixel(args, own[e], partner[e]);
}
}  // namespace

void mixup_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w, const MixupArgs& args,
                 float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot) {
  check_mix_batch("mixup_batch", b, c, h, w);
  BTS_CHECK(b == 0 || out != images, "mixup_batch: out must not alias images (partners are read while writing)");
  std::vector<int32_t> perm(static_cast<size_t>(b));
  mix_permutation(args.seed, args.step, 0, b, perm.data());
  for (int64_t i = 0; i < b; ++i) {
    const int32_t p = perm[i];
    labels_out[2 * i] = labels[i];
    label_weights[2 * i] = args.lambda;
    source_slot[2 * i] = static_cast<int32_t>(i);
    labels_out[2 * i + 1] = labels[p];
    label_weights[2 * i + 1] = args.one_minus_lambda;
    source_slot[2 * i + 1] = p;
  }
  const int64_t per_sample = static_cast<int64_t>(c) * h * w;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < b; ++i) {
    const float* own = images + i * per_sample;
    const float* partner = images + perm[i] * per_sample;
    float* dst = out + i * per_sample;
    mixup_sample(args, own, partner, per_sample, dst);
  }
}

void ricap_batch(const float* images, const int32_t* labels, int64_t b, int c, int h, int w, const RicapArgs& args,
                 float* out, int32_t* labels_out, float* label_weights, int32_t* source_slot, MemoryOrder order) {
  check_mix_batch("ricap_batch", b, c, h, w);
  check_batch_order("ricap_batch", order);
  BTS_CHECK(b == 0 || out != images, "ricap_batch: out must not alias images (tiles are read while writing)");
  check_ricap_args(args, h, w);
  std::vector<int32_t> perm(static_cast<size_t>(4 * b));  // perm[k * b + i] = perm_k(i)
  for (int k = 0; k < 4; ++k) mix_permutation(args.seed, args.step, k, b, perm.data() + k * b);
  for (int64_t i = 0; i < b; ++i)
    for (int k = 0; k < 4; ++k) {
      const int32_t p = perm[k * b + i];
      labels_out[4 * i + k] = labels[p];
      label_weights[4 * i + k] = args.weight[k];
      source_slot[4 * i + k] = p;
    }
  const int64_t plane = static_cast<int64_t>(h) * w, per_sample = c * plane;
  const ImageStrides st = image_strides(order, c, plane);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < b; ++i) {
    float* dst = out + i * per_sample;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const RicapSource s = ricap_source(args, y, x);
        const float* src = images + perm[s.k * b + i] * per_sample + (static_cast<int64_t>(s.sy) * w + s.sx) * st.pixel;
        float* to = dst + (static_cast<int64_t>(y) * w + x) * st.pixel;
        for (int ch = 0; ch < c; ++ch) to[ch * st.channel] = src[ch * st.channel];
      }
  }
}

void cutout_batch(float* images, int64_t b, int c, int h, int w, const CutoutArgs& args, MemoryOrder order) {
  BTS_CHECK(b >= 0, "cutout_batch: batch of " << b << " samples");
  BTS_CHECK(c >= 1 && h >= 1 && w >= 1 && static_cast<int64_t>(c) * h * w < (int64_t(1) << 31),
            "cutout_batch: bad image shape " << c << "x" << h << "x" << w);
  BTS_CHECK(args.size >= 0, "cutout_batch: hole side " << args.size << ", expected >= 0");
  check_batch_order("cutout_batch", order);
  if (args.size == 0) return;
  const int64_t plane = static_cast<int64_t>(h) * w, per_sample = c * plane;
  const ImageStrides st = image_strides(order, c, plane);
  for (int64_t i = 0; i < b; ++i) {
    const CutoutBox box = cutout_box(args, i, h, w);
    for (int ch = 0; ch < c; ++ch)
      for (int y = box.y0; y < box.y1; ++y) {
        float* row = images + i * per_sample + ch * st.channel + static_cast<int64_t>(y) * w * st.pixel;
        for (int x = box.x0; x < box.x1; ++x) row[x * st.pixel] = 0.0f;
      }
  }
}

}  // namespace bts::kernels::cpu
