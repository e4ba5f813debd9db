// CPU twin of RandAugment, one image at a time (declarations and contract in kernels/cpu/randaugment.h). Why plain
// loops: this is the oracle the GPU kernels are compared with byte for byte, so it stays obviously correct.
#include "kernels/cpu/randaugment.h"

#include <vector>

#include "kernels/common/check.h"

namespace bts::kernels::cpu {


void randaugment_image(const RandAugmentPlan& plan, const RaDraw& d, const uint8_t* src, uint8_t* dst) {
  const int c = plan.c, h = plan.h, w = plan.w, plane = h * w;
  uint8_t lut[3 * 256];
  if (ra_is_lut_op(d.op)) {
    // The same histograms the GPU's statistics kernel counts, then the same table builder.
    uint32_t hist[3][256] = {};
    const RaStats st = ra_stats(d.op);
    if (st == RaStats::Channel)
      for (int ch = 0; ch < c; ++ch)
        for (int i = 0; i < plane; ++i) ++hist[ch][src[ch * plane + i]];
    else if (st == RaStats::Grey)
      for (int i = 0; i < plane; ++i) ++hist[0][ra_grey_at(src, c, plane, i)];
    for (int ch = 0; ch < c; ++ch) ra_build_lut(plan, d.op, hist[st == RaStats::Channel ? ch : 0], lut + ch * 256);
  }
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) dst[(ch * h + y) * w + x] = ra_pixel(plan, d, src, lut, ch, y, x);
}

void randaugment_batch(const uint8_t* images, int64_t n, const int32_t* idx, int64_t b, int c, int h, int w,
                       const RandAugmentArgs& args, uint8_t* out) {
  randaugment_batch(images, n, idx, b, make_checked_randaugment_plan(args, c, h, w), out);
}

void randaugment_batch(const uint8_t* images, int64_t n, const int32_t* idx, int64_t b, const RandAugmentPlan& plan,
                       uint8_t* out) {
  const int c = plan.c, h = plan.h, w = plan.w;
  BTS_CHECK(plan.n >= 1 && plan.n <= kRandAugmentMaxN, "randaugment: N = " << plan.n << ", expected 1.."
                                                                          << kRandAugmentMaxN);
  BTS_CHECK(b >= 0 && b < (int64_t(1) << 31), "randaugment: batch of " << b << " images");
  if (idx) {
    for (int64_t s = 0; s < b; ++s)
      BTS_CHECK(idx[s] >= 0 && idx[s] < n, "randaugment: index " << idx[s] << " in batch slot " << s
                                                                 << " is outside the data set [0, " << n << ")");
  } else {
    BTS_CHECK(n >= b, "randaugment: " << b << " slots but only " << n << " images");
  }
  const int64_t per_sample = static_cast<int64_t>(c) * h * w;
  // Images are independent; the result does not depend on the thread count.
#pragma omp parallel
  {
    std::vector<uint8_t> ping(static_cast<size_t>(per_sample)), pong(static_cast<size_t>(per_sample));
#pragma omp for schedule(static)
    for (int64_t s = 0; s < b; ++s) {
      const uint8_t* cur = images + (idx ? idx[s] : s) * per_sample;
      for (int r = 0; r < plan.n; ++r) {
        uint8_t* next = r == plan.n - 1 ? out + s * per_sample : (cur == ping.data() ? pong.data() : ping.data());
        const RaDraw d =
            draw_randaugment(plan.seed, plan.step, static_cast<uint32_t>(s), static_cast<uint32_t>(r), h, w);
        randaugment_image(plan, d, cur, next);
        cur = next;
      }
    }
  }
}

void randaugment_batch(const uint8_t* src, uint8_t* dst, int64_t b, int c, int h, int w, const RandAugmentArgs& args) {
  randaugment_batch(src, b, nullptr, b, c, h, w, args, dst);
}

}  // namespace bts::kernels::cpu
