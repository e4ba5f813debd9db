// RandAugment (Cubuk et al. 2020): per image, N ops drawn with replacement from 16, all at magnitude M.
// Why this file: the draw, the magnitudes, the per-channel lookup tables and the value of every output pixel are
// defined once here and called by both the CPU twin (kernels/cpu/randaugment.cpp) and the CUDA kernels
// (kernels/cuda/randaugment.cu), so the two sides give the same bytes by construction. Each op reproduces PIL
// (ImageOps, ImageEnhance, Image.transform/rotate; Pillow 13 as checked) including its integer and float rounding,
// because the paper's RandAugment is the PIL one. docs/DATA.md describes the choices.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kernels/common/augment.h"
#include "kernels/common/check.h"
#include "kernels/common/hd.h"
#include "kernels/common/philox.h"

namespace bts::kernels {

constexpr int kRandAugmentOps = 16;
constexpr int kRandAugmentMaxM = 30;       // magnitudes are M / 30 of each op's range
constexpr int kRandAugmentMaxN = 16;       // ops per image
constexpr int kRandAugmentMaxSide = 8192;  // keeps PIL's 16.16 fixed-point affine path exact (|coord| < 32768)
// Fourth Philox counter word of RandAugment round r is kRandAugmentStreamTag + r ("RA" in the high half), so its
// stream never meets the crop/flip stream (kAugmentStreamTag, "aug1") or bts::Rng streams of the same seed.
constexpr uint32_t kRandAugmentStreamTag = 0x52410000u;
static_assert((kAugmentStreamTag & 0xffff0000u) != kRandAugmentStreamTag, "RandAugment must have its own stream");
// PIL shifts negative ints arithmetically (floor); so must we.
static_assert((-65537 >> 16) == -2, "arithmetic right shift of negative ints is assumed");

// The 16 ops, in the order the draw indexes them.
enum class RaOp : uint8_t {
  AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color,
  Contrast, Brightness, Sharpness, ShearX, ShearY, TranslateX, TranslateY, Cutout
};

inline const char* ra_op_name(RaOp op) {
  switch (op) {
    case RaOp::AutoContrast: return "AutoContrast";
    case RaOp::Equalize: return "Equalize";
    case RaOp::Invert: return "Invert";
    case RaOp::Rotate: return "Rotate";
    case RaOp::Posterize: return "Posterize";
    case RaOp::Solarize: return "Solarize";
    case RaOp::SolarizeAdd: return "SolarizeAdd";
    case RaOp::Color: return "Color";
    case RaOp::Contrast: return "Contrast";
    case RaOp::Brightness: return "Brightness";
    case RaOp::Sharpness: return "Sharpness";
    case RaOp::ShearX: return "ShearX";
    case RaOp::ShearY: return "ShearY";
    case RaOp::TranslateX: return "TranslateXabs";
    case RaOp::TranslateY: return "TranslateYabs";
    case RaOp::Cutout: return "CutoutAbs";
  }
  return "?";
}

// What a caller chooses; everything else follows from it and the image size.
struct RandAugmentArgs {
  uint64_t seed = 0;  // per run
  uint64_t step = 0;  // per batch (iteration counter)
  int n = 2;          // ops per image, 1..kRandAugmentMaxN
  int m = 4;          // magnitude, 0..kRandAugmentMaxM
};

// ---------------------------------------------------------------------------------------------------------------
// The random draw. Round r of batch slot s at (seed, step) is one Philox block with key seed and counter
// (s, step low, step high, kRandAugmentStreamTag + r): word 0 -> op (uniform over 16), top bit of word 1 -> the
// sign of Rotate/Shear/Translate, words 2 and 3 -> the Cutout centre (uniform over columns and rows).
struct RaDraw {
  RaOp op = RaOp::Invert;
  bool negative = false;
  int cx = 0;
  int cy = 0;
};

BTS_HD RaDraw draw_randaugment(uint64_t seed, uint64_t step, uint32_t slot, uint32_t round, int h, int w) {
  const Philox4 r = philox4x32_10(slot, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32),
                                  kRandAugmentStreamTag + round, seed);
  RaDraw d;
  d.op = static_cast<RaOp>(scale_to_range(r.v[0], kRandAugmentOps));
  d.negative = (r.v[1] >> 31) != 0u;
  d.cx = static_cast<int>(scale_to_range(r.v[2], static_cast<uint32_t>(w)));
  d.cy = static_cast<int>(scale_to_range(r.v[3], static_cast<uint32_t>(h)));
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Separately rounded float/double operations, as PIL's C code computes them (x86-64 builds have no FMA). nvcc
// contracts a*b+c into an FMA by default (kernels/CMakeLists.txt does not pass --fmad=false), so the device side
// spells each operation with its round-to-nearest intrinsic, which nvcc never fuses. The host side is compiled with
// -ffp-contract=off (top-level CMakeLists.txt): GCC would otherwise fuse a*b+c wherever the target has FMA
// instructions (-march=native, -mfma), and the CPU twins would stop matching PIL and the GPU.
BTS_HD float ra_fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
BTS_HD float ra_fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
BTS_HD double ra_dmul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
BTS_HD double ra_dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
BTS_HD double ra_ddiv(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}

// ---------------------------------------------------------------------------------------------------------------
// Magnitudes and geometry of one batch: computed once on the host, passed by value to every kernel. Only integers
// and three floats reach the per-pixel code.

// PIL's 16.16 fixed-point affine map (Geometry.c, affine_fixed): the output pixel (x, y) reads source pixel
// ((a2 + y a1 + x a0) >> 16, (a5 + y a4 + x a3) >> 16), or 0 when that is outside the image.
struct RaAffine {
  int32_t a0 = 65536, a1 = 0, a2 = 32768, a3 = 0, a4 = 65536, a5 = 32768;  // identity
};

struct RandAugmentPlan {
  uint64_t seed = 0, step = 0;
  int n = 0, m = 0;
  int c = 0, h = 0, w = 0;
  int posterize_mask = 0xff;    // bits kept: max(1, int(v))
  int solarize_threshold = 0;   // pixels >= this are inverted: the smallest integer >= v
  int solarize_add = 0;         // int(v), added to pixels below 128
  float factor = 1.0f;          // Color/Contrast/Brightness/Sharpness blend factor, float as in PIL's blend
  float smooth_w1 = 0.0f, smooth_w5 = 0.0f;  // PIL's SMOOTH kernel weights 1/13 and 5/13, rounded to float
  int translate[2] = {0, 0};    // source offset of TranslateX/Y: [0] for +v, [1] for -v
  int cutout_side = 0;          // int(v)
  RaAffine rotate[2], shear_x[2], shear_y[2];  // [0] for +v, [1] for -v
};

// The reference implementation's magnitude: v = (M / 30) * (max - min) + min, in double, in that order.
inline double randaugment_value(int m, double lo, double hi) {
  return (static_cast<double>(m) / 30.0) * (hi - lo) + lo;
}

// v at magnitude m for ops that have one (0 for AutoContrast, Equalize, Invert).
inline double randaugment_magnitude(RaOp op, int m) {
  switch (op) {
    case RaOp::Rotate: return randaugment_value(m, 0.0, 30.0);
    case RaOp::Posterize: return randaugment_value(m, 0.0, 4.0);
    case RaOp::Solarize: return randaugment_value(m, 0.0, 256.0);
    case RaOp::SolarizeAdd: return randaugment_value(m, 0.0, 110.0);
    case RaOp::Color:
    case RaOp::Contrast:
    case RaOp::Brightness:
    case RaOp::Sharpness: return randaugment_value(m, 0.1, 1.9);
    case RaOp::ShearX:
    case RaOp::ShearY: return randaugment_value(m, 0.0, 0.3);
    case RaOp::TranslateX:
    case RaOp::TranslateY: return randaugment_value(m, 0.0, 100.0);
    case RaOp::Cutout: return randaugment_value(m, 0.0, 40.0);
    default: return 0.0;
  }
}

// Python's round(x, 15): printf's correctly rounded decimal, read back correctly rounded.
inline double ra_round15(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", x);
  return std::strtod(buf, nullptr);
}

// PIL's FIX(v) = FLOOR(v * 65536.0 + 0.5).
inline int32_t ra_fix16(double v) { return static_cast<int32_t>(std::floor(v * 65536.0 + 0.5)); }

// PIL's affine_fixed coefficients for the AFFINE data (a, b, c, d, e, f).
inline RaAffine ra_affine_fixed(const double a[6]) {
  RaAffine f;
  f.a0 = ra_fix16(a[0]);
  f.a1 = ra_fix16(a[1]);
  f.a3 = ra_fix16(a[3]);
  f.a4 = ra_fix16(a[4]);
  f.a2 = ra_fix16(a[2] + a[0] * 0.5 + a[1] * 0.5);
  f.a5 = ra_fix16(a[5] + a[3] * 0.5 + a[4] * 0.5);
  return f;
}

// PIL's Image.rotate(degrees) (nearest, no expand, about the centre (w/2, h/2)) as an AFFINE transform.
inline RaAffine ra_rotate_affine(double degrees, int h, int w) {
  double angle = std::fmod(degrees, 360.0);  // Python's %: the result takes the divisor's sign
  if (angle < 0) angle += 360.0;
  angle = -(angle * (3.141592653589793 / 180.0));  // -math.radians(angle)
  double m[6] = {ra_round15(std::cos(angle)), ra_round15(std::sin(angle)), 0.0,
                 ra_round15(-std::sin(angle)), ra_round15(std::cos(angle)), 0.0};
  const double cx = w / 2.0, cy = h / 2.0;
  const double c = m[0] * -cx + m[1] * -cy + m[2], f = m[3] * -cx + m[4] * -cy + m[5];
  m[2] = c + cx;
  m[5] = f + cy;
  return ra_affine_fixed(m);
}

// Everything the kernels need for (args, image shape). Host only; callers validate the arguments first.
inline RandAugmentPlan make_randaugment_plan(const RandAugmentArgs& args, int c, int h, int w) {
  RandAugmentPlan p;
  p.seed = args.seed;
  p.step = args.step;
  p.n = args.n;
  p.m = args.m;
  p.c = c;
  p.h = h;
  p.w = w;
  const int m = args.m;
  int bits = static_cast<int>(randaugment_magnitude(RaOp::Posterize, m));
  bits = bits < 1 ? 1 : bits;
  p.posterize_mask = (0xff << (8 - bits)) & 0xff;
  p.solarize_threshold = static_cast<int>(std::ceil(randaugment_magnitude(RaOp::Solarize, m)));
  p.solarize_add = static_cast<int>(randaugment_magnitude(RaOp::SolarizeAdd, m));
  p.factor = static_cast<float>(randaugment_magnitude(RaOp::Color, m));
  p.smooth_w1 = 1.0f / 13.0f;
  p.smooth_w5 = 5.0f / 13.0f;
  const double t = randaugment_magnitude(RaOp::TranslateX, m);
  // PIL's scaling path (ImagingScaleAffine) reads source column floor(x + 0.5 + v); v + 0.5 is never within
  // 0.16 of an integer for v = 10 M / 3, so the per-pixel accumulation cannot change that floor.
  p.translate[0] = static_cast<int>(std::floor(t + 0.5));
  p.translate[1] = static_cast<int>(std::floor(-t + 0.5));
  p.cutout_side = static_cast<int>(randaugment_magnitude(RaOp::Cutout, m));
  const double deg = randaugment_magnitude(RaOp::Rotate, m), sh = randaugment_magnitude(RaOp::ShearX, m);
  for (int s = 0; s < 2; ++s) {
    const double sign = s == 0 ? 1.0 : -1.0;
    p.rotate[s] = ra_rotate_affine(sign * deg, h, w);
    const double sx[6] = {1.0, sign * sh, 0.0, 0.0, 1.0, 0.0}, sy[6] = {1.0, 0.0, 0.0, sign * sh, 1.0, 0.0};
    p.shear_x[s] = ra_affine_fixed(sx);
    p.shear_y[s] = ra_affine_fixed(sy);
  }
  return p;
}

// The plan after checking the arguments and the shape (throws bts::Error naming the bad value): what a batch's
// kernels read, on either side.
inline RandAugmentPlan make_checked_randaugment_plan(const RandAugmentArgs& a, int c, int h, int w) {
  BTS_CHECK(c == 1 || c == 3, "randaugment: " << c << " channels, expected 1 (grey) or 3 (RGB)");
  BTS_CHECK(h >= 1 && w >= 1 && h <= kRandAugmentMaxSide && w <= kRandAugmentMaxSide,
            "randaugment: image " << h << "x" << w << ", expected sides in 1.." << kRandAugmentMaxSide);
  BTS_CHECK(a.n >= 1 && a.n <= kRandAugmentMaxN, "randaugment: N = " << a.n << ", expected 1.." << kRandAugmentMaxN);
  BTS_CHECK(a.m >= 0 && a.m <= kRandAugmentMaxM, "randaugment: M = " << a.m << ", expected 0.." << kRandAugmentMaxM);
  return make_randaugment_plan(a, c, h, w);
}

// ---------------------------------------------------------------------------------------------------------------
// Point ops: one 256-entry lookup table per channel (PIL applies them as image.point(lut)).

BTS_HD bool ra_is_lut_op(RaOp op) {
  switch (op) {
    case RaOp::AutoContrast:
    case RaOp::Equalize:
    case RaOp::Invert:
    case RaOp::Posterize:
    case RaOp::Solarize:
    case RaOp::SolarizeAdd:
    case RaOp::Contrast:
    case RaOp::Brightness: return true;
    default: return false;
  }
}

// The histogram a lookup table is built from: none, each channel's own, or the grey image's (Contrast).
enum class RaStats : uint8_t { None, Channel, Grey };
BTS_HD RaStats ra_stats(RaOp op) {
  if (op == RaOp::AutoContrast || op == RaOp::Equalize) return RaStats::Channel;
  if (op == RaOp::Contrast) return RaStats::Grey;
  return RaStats::None;
}

// PIL's RGB -> L conversion (Convert.c rgb2l): 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point, rounded to
// nearest. It differs from trunc((299 R + 587 G + 114 B) / 1000) by at most 1.
BTS_HD int ra_grey(int r, int g, int b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }

// Grey value of pixel i (offset within a plane) of a c-channel image: the pixel itself for c = 1.
BTS_HD int ra_grey_at(const uint8_t* img, int c, int plane, int i) {
  return c == 3 ? ra_grey(img[i], img[plane + i], img[2 * plane + i]) : img[i];
}

// PIL's Image.blend(degenerate, image, factor) for one value (Blend.c): degenerate + factor * (pixel - degenerate)
// in float, clipped to [0, 255], truncated. Factor 1 returns the pixel exactly.
BTS_HD uint8_t ra_blend(int degenerate, int pixel, float factor) {
  const float t = ra_fadd(static_cast<float>(degenerate), ra_fmul(factor, static_cast<float>(pixel - degenerate)));
  if (t <= 0.0f) return 0;
  if (t >= 255.0f) return 255;
  return static_cast<uint8_t>(t);
}

// The lookup table of a point op. hist: the 256-bin histogram ra_stats(op) asks for (unused otherwise).
BTS_HD void ra_build_lut(const RandAugmentPlan& p, RaOp op, const uint32_t* hist, uint8_t* lut) {
  switch (op) {
    case RaOp::AutoContrast: {  // ImageOps.autocontrast(cutoff=0): stretch [lo, hi] to [0, 255] in double
      int lo = 0, hi = 255;
      while (lo < 256 && hist[lo] == 0) ++lo;
      while (hi >= 0 && hist[hi] == 0) --hi;
      if (hi <= lo) break;
      const double scale = ra_ddiv(255.0, static_cast<double>(hi - lo));
      const double offset = ra_dmul(static_cast<double>(-lo), scale);
      for (int i = 0; i < 256; ++i) {
        const int v = static_cast<int>(ra_dadd(ra_dmul(static_cast<double>(i), scale), offset));  // truncates
        lut[i] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
      }
      return;
    }
    case RaOp::Equalize: {  // ImageOps.equalize: step = (pixels - count of the top value) // 255
      uint64_t total = 0;
      uint32_t last = 0;
      int nonzero = 0;
      for (int i = 0; i < 256; ++i)
        if (hist[i] != 0) {
          total += hist[i];
          last = hist[i];
          ++nonzero;
        }
      if (nonzero <= 1) break;
      const uint64_t step = (total - last) / 255;
      if (step == 0) break;
      uint64_t acc = step / 2;
      for (int i = 0; i < 256; ++i) {
        const uint64_t v = acc / step;
        lut[i] = static_cast<uint8_t>(v > 255 ? 255 : v);  // image.point clips the table to 8 bits
        acc += hist[i];
      }
      return;
    }
    case RaOp::Invert:
      for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(255 - i);
      return;
    case RaOp::Posterize:
      for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i & p.posterize_mask);
      return;
    case RaOp::Solarize:
      for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < p.solarize_threshold ? i : 255 - i);
      return;
    case RaOp::SolarizeAdd:
      for (int i = 0; i < 256; ++i) {
        const int v = i < 128 ? i + p.solarize_add : i;
        lut[i] = static_cast<uint8_t>(v > 255 ? 255 : v);
      }
      return;
    case RaOp::Contrast: {  // ImageEnhance.Contrast: blend with the grey mean, int(mean + 0.5)
      uint64_t count = 0, sum = 0;
      for (int i = 0; i < 256; ++i) {
        count += hist[i];
        sum += static_cast<uint64_t>(i) * hist[i];
      }
      const int mean = count == 0 ? 0 : static_cast<int>((2 * sum + count) / (2 * count));
      for (int i = 0; i < 256; ++i) lut[i] = ra_blend(mean, i, p.factor);
      return;
    }
    case RaOp::Brightness:  // ImageEnhance.Brightness: blend with black
      for (int i = 0; i < 256; ++i) lut[i] = ra_blend(0, i, p.factor);
      return;
    default:
      break;
  }
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i);  // PIL's "don't bother": identity
}

// ---------------------------------------------------------------------------------------------------------------
// Per-pixel values of the other ops.

// Nearest-neighbour affine sample of one plane, 0 outside (PIL's fill).
BTS_HD uint8_t ra_affine_pixel(const RaAffine& a, const uint8_t* plane, int h, int w, int y, int x) {
  // PIL accumulates in 32-bit ints; |values| < 2^31 for sides up to kRandAugmentMaxSide.
  const int32_t xin = (a.a2 + y * a.a1 + x * a.a0) >> 16;
  const int32_t yin = (a.a5 + y * a.a4 + x * a.a3) >> 16;
  return (xin >= 0 && xin < w && yin >= 0 && yin < h) ? plane[yin * w + xin] : static_cast<uint8_t>(0);
}

// PIL's SMOOTH filter (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, divided by 13) at an interior pixel, with Filter.c's
// float evaluation order and its +0.5 rounding offset; border pixels are left as they are (not called there).
BTS_HD uint8_t ra_smooth_pixel(const RandAugmentPlan& p, const uint8_t* plane, int w, int y, int x) {
  const uint8_t* r[3] = {plane + (y + 1) * w, plane + y * w, plane + (y - 1) * w};
  float ss = 0.5f;
  for (int k = 0; k < 3; ++k) {
    const float centre = k == 1 ? p.smooth_w5 : p.smooth_w1;
    float row = ra_fmul(static_cast<float>(r[k][x - 1]), p.smooth_w1);
    row = ra_fadd(row, ra_fmul(static_cast<float>(r[k][x]), centre));
    row = ra_fadd(row, ra_fmul(static_cast<float>(r[k][x + 1]), p.smooth_w1));
    ss = ra_fadd(ss, row);
  }
  if (ss <= 0.0f) return 0;
  if (ss >= 255.0f) return 255;
  return static_cast<uint8_t>(ss);
}

// Cutout fill: the reference's (125, 123, 114) for RGB; 125 (its first value) for grey images.
BTS_HD uint8_t ra_cutout_fill(int c, int ch) {
  if (c != 3) return 125;
  return static_cast<uint8_t>(ch == 0 ? 125 : (ch == 1 ? 123 : 114));
}

// The hole of CutoutAbs as [x0, x1) x [y0, y1): side s = int(v); corner = max(0, centre - s/2); far edge clipped.
struct RaRect {
  int x0, y0, x1, y1;
};
BTS_HD RaRect ra_cutout_rect(const RandAugmentPlan& p, const RaDraw& d) {
  const int s = p.cutout_side;
  RaRect r;
  r.x0 = d.cx - s / 2 > 0 ? d.cx - s / 2 : 0;
  r.y0 = d.cy - s / 2 > 0 ? d.cy - s / 2 : 0;
  r.x1 = r.x0 + s < p.w ? r.x0 + s : p.w;
  r.y1 = r.y0 + s < p.h ? r.y0 + s : p.h;
  return r;
}

// Output pixel (ch, y, x) of one image after op d. img: the image before the op (c planes of h x w);
// lut: its c lookup tables of 256 entries (read by the point ops only; see ra_build_lut).
BTS_HD uint8_t ra_pixel(const RandAugmentPlan& p, const RaDraw& d, const uint8_t* img, const uint8_t* lut, int ch,
                        int y, int x) {
  const int h = p.h, w = p.w, plane = h * w;
  const uint8_t* src = img + ch * plane;
  const uint8_t px = src[y * w + x];
  const int s = d.negative ? 1 : 0;
  switch (d.op) {
    case RaOp::Rotate: return ra_affine_pixel(p.rotate[s], src, h, w, y, x);
    case RaOp::ShearX: return ra_affine_pixel(p.shear_x[s], src, h, w, y, x);
    case RaOp::ShearY: return ra_affine_pixel(p.shear_y[s], src, h, w, y, x);
    case RaOp::TranslateX: {
      const int sx = x + p.translate[s];
      return (sx >= 0 && sx < w) ? src[y * w + sx] : static_cast<uint8_t>(0);
    }
    case RaOp::TranslateY: {
      const int sy = y + p.translate[s];
      return (sy >= 0 && sy < h) ? src[sy * w + x] : static_cast<uint8_t>(0);
    }
    case RaOp::Color:  // ImageEnhance.Color: blend with the image's grey version; grey images are unchanged
      return p.c == 3 ? ra_blend(ra_grey_at(img, 3, plane, y * w + x), px, p.factor) : px;
    case RaOp::Sharpness:  // ImageEnhance.Sharpness: blend with SMOOTH; PIL's filter keeps the border pixels
      if (y == 0 || x == 0 || y == h - 1 || x == w - 1) return px;
      return ra_blend(ra_smooth_pixel(p, src, w, y, x), px, p.factor);
    case RaOp::Cutout: {
      const RaRect r = ra_cutout_rect(p, d);
      return (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1) ? ra_cutout_fill(p.c, ch) : px;
    }
    default: return lut[ch * 256 + px];
  }
}

}  // namespace bts::kernels
