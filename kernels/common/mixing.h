// Batch-level mixing augmentations (mixup, RICAP) and cutout: the formulas that the CPU twins
// (kernels/cpu/mixing.cpp) and the CUDA kernels (kernels/cuda/mixing.cu) both call, so the two sides give the same
// bits for the same (seed, step). Per-slot randomness (batch permutations, cutout centres) is Philox on either side;
// per-batch scalars (the Beta draws, RICAP's offsets) are drawn once on the host and travel as kernel arguments.
// Definitions and conventions: docs/AUGMENTATION.md.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/common/check.h"
#include "kernels/common/augment.h"  // scale_to_range
#include "kernels/common/hd.h"
#include "kernels/common/philox.h"

namespace bts::kernels {

// Fourth Philox counter word of each kind of draw: "mx" + purpose + sub-stream, so no two purposes (nor the crop/flip
// stream "aug1", nor bts::Rng streams, whose fourth word is the high half of a small stream id) share a counter.
constexpr uint32_t kMixPermutationTag = 0x6D787000u;  // + k: batch permutation k (mixup uses k = 0, RICAP 0..3)
constexpr uint32_t kMixBetaTag = 0x6D786200u;         // + which: the Beta draws (kBetaMixup, kBetaRicapW, kBetaRicapH)
constexpr uint32_t kMixOffsetTag = 0x6D786F00u;       // RICAP crop offsets, counter word 0 = tile k
constexpr uint32_t kCutoutTag = 0x6D786300u;          // cutout centres, counter word 0 = batch slot
constexpr uint32_t kBetaMixup = 0, kBetaRicapW = 1, kBetaRicapH = 2;

// Target columns per sample: the M of the [b, M] target matrices (engine/ops.h Targets).
constexpr int kMixupTargets = 2;
constexpr int kRicapTargets = 4;
// Largest batch the permutation kernel takes: it keeps one 64-bit key per slot in shared memory (32 KiB).
constexpr int64_t kMixMaxBatch = 4096;

BTS_HD Philox4 mix_block(uint64_t seed, uint64_t step, uint32_t word0, uint32_t tag) {
  return philox4x32_10(word0, static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32), tag, seed);
}

// ---- Batch permutations ------------------------------------------------------------------------------------
// Slot j of permutation k at (seed, step) gets a 64-bit key; perm(i) = rank of key i among all b keys (ascending,
// ties by slot). Ranks of i.i.d. keys are a uniformly random permutation, and each slot's rank is computed
// independently, so a GPU thread per slot needs no sort.
BTS_HD uint64_t mix_permutation_key(uint64_t seed, uint64_t step, int k, int64_t slot) {
  const Philox4 r = mix_block(seed, step, static_cast<uint32_t>(slot), kMixPermutationTag + static_cast<uint32_t>(k));
  return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
}

BTS_HD int32_t permutation_rank(const uint64_t* keys, int64_t b, int64_t i) {
  int64_t r = 0;
  const uint64_t ki = keys[i];
  for (int64_t j = 0; j < b; ++j) r += keys[j] < ki || (keys[j] == ki && j < i);
  return static_cast<int32_t>(r);
}

// ---- mixup ----------------------------------------------------------------------------------------------------
struct MixupArgs {
  uint64_t seed = 0;
  uint64_t step = 0;
  float lambda = 1.0f;          // weight of the image's own sample
  float one_minus_lambda = 0;   // 1 - lambda, rounded once on the host so both sides use the same float
};

// x_i = lambda x_i + (1 - lambda) x_partner: the product (1 - lambda) x_partner is rounded first, then one fused
// multiply-add. The device spells the product __fmul_rn so nvcc cannot fold it into another FMA; on the host a
// product that is only an argument of fmaf has no add to be contracted with, so it is rounded on its own too.
BTS_HD float mixup_pixel(const MixupArgs& a, float own, float partner) {
#if defined(__CUDA_ARCH__)
  return fmaf(a.lambda, own, __fmul_rn(a.one_minus_lambda, partner));
#else
  return fmaf(a.lambda, own, a.one_minus_lambda * partner);
#endif
}

// ---- RICAP ----------------------------------------------------------------------------------------------------
// Boundary (w, h) splits the W x H image into tiles k = 0..3: top-left (w x h), top-right ((W-w) x h), bottom-left
// (w x (H-h)), bottom-right ((W-w) x (H-h)). Tile k of image i is source image perm_k(i) cropped at (ox[k], oy[k]).
struct RicapArgs {
  uint64_t seed = 0;
  uint64_t step = 0;
  int w = 0, h = 0;               // the boundary, 0 <= w <= W, 0 <= h <= H
  int ox[4] = {}, oy[4] = {};     // crop offsets: 0 <= ox[k] <= W - tile width, 0 <= oy[k] <= H - tile height
  float weight[4] = {};           // tile area / (W H)
};

BTS_HD int ricap_tile_width(int w, int W, int k) { return (k & 1) ? W - w : w; }
BTS_HD int ricap_tile_height(int h, int H, int k) { return (k & 2) ? H - h : h; }

// Crop offsets of tile k for tile size (tw, th): uniform integers in [0, W - tw] x [0, H - th], shared by the batch.
BTS_HD void ricap_draw_offset(uint64_t seed, uint64_t step, int k, int tw, int th, int W, int H, int* ox, int* oy) {
  const Philox4 r = mix_block(seed, step, static_cast<uint32_t>(k), kMixOffsetTag);
  *ox = static_cast<int>(scale_to_range(r.v[0], static_cast<uint32_t>(W - tw + 1)));
  *oy = static_cast<int>(scale_to_range(r.v[1], static_cast<uint32_t>(H - th + 1)));
}

// Where output pixel (y, x) comes from: its tile k (the target column) and the source pixel (sy, sx).
struct RicapSource {
  int k, sy, sx;
};
BTS_HD RicapSource ricap_source(const RicapArgs& a, int y, int x) {
  const int right = x >= a.w, bottom = y >= a.h;
  const int k = right + 2 * bottom;
  return RicapSource{k, y - (bottom ? a.h : 0) + a.oy[k], x - (right ? a.w : 0) + a.ox[k]};
}

// ---- cutout ---------------------------------------------------------------------------------------------------
struct CutoutArgs {
  uint64_t seed = 0;
  uint64_t step = 0;
  int size = 0;  // side L of the square hole; 0 = off
};

// The hole of one slot, half-open [y0, y1) x [x0, x1), already clipped to the image; possibly empty when size = 0.
struct CutoutBox {
  int y0, y1, x0, x1;
};
struct CutoutCentre {
  int cy, cx;
};

// Centre of slot `slot`'s hole: uniform over the H x W pixels.
BTS_HD CutoutCentre cutout_centre(const CutoutArgs& a, int64_t slot, int H, int W) {
  const Philox4 r = mix_block(a.seed, a.step, static_cast<uint32_t>(slot), kCutoutTag);
  return CutoutCentre{static_cast<int>(scale_to_range(r.v[0], static_cast<uint32_t>(H))),
                      static_cast<int>(scale_to_range(r.v[1], static_cast<uint32_t>(W)))};
}

// The unclipped square is [c - L/2, c - L/2 + L) on each axis: DeVries & Taylor's box for even L, and exactly L
// wide for odd L too (theirs is L - 1 wide there).
BTS_HD CutoutBox cutout_box(const CutoutArgs& a, int64_t slot, int H, int W) {
  const CutoutCentre c = cutout_centre(a, slot, H, W);
  const int L = a.size > 0 ? a.size : 0;
  const int ty = c.cy - L / 2, tx = c.cx - L / 2;
  CutoutBox b;
  b.y0 = ty < 0 ? 0 : ty;
  b.y1 = ty + L > H ? H : ty + L;
  b.x0 = tx < 0 ? 0 : tx;
  b.x1 = tx + L > W ? W : tx + L;
  return b;
}

// ---- Host-only: the per-batch scalars ---------------------------------------------------------------------------
// A sequential stream of Philox blocks (counter word 0 = block number) for draws whose count is not fixed
// (rejection sampling). Host only: the results travel to the kernels as arguments.
class MixStream {
 public:
  MixStream(uint64_t seed, uint64_t step, uint32_t tag) : seed_(seed), step_(step), tag_(tag) {}
  double uniform() {  // (0, 1]
    if (used_ == 4) {
      block_ = mix_block(seed_, step_, block_no_++, tag_);
      used_ = 0;
    }
    const double u = uniform_open0(block_.v[used_], block_.v[used_ + 1]);
    used_ += 2;
    return u;
  }
  double normal() {  // Box-Muller, one of the pair
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t seed_, step_;
  uint32_t tag_;
  uint32_t block_no_ = 0;
  int used_ = 4;
  Philox4 block_{};
};

// Gamma(a, 1) by Marsaglia & Tsang (2000); for a < 1 the boost Gamma(a) = Gamma(a + 1) U^(1/a).
inline double gamma_draw(double a, MixStream& s) {
  if (a < 1.0) {
    const double g = gamma_draw(a + 1.0, s);
    return g * std::pow(s.uniform(), 1.0 / a);
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = s.normal();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = s.uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

// Beta(a, a) = X / (X + Y) with X, Y ~ Gamma(a, 1): in [0, 1]; a deterministic function of (a, seed, step, which).
inline double beta_draw(double a, uint64_t seed, uint64_t step, uint32_t which) {
  BTS_CHECK(a > 0 && std::isfinite(a), "beta_draw: parameter " << a << ", expected a finite number > 0");
  MixStream s(seed, step, kMixBetaTag + which);
  const double x = gamma_draw(a, s), y = gamma_draw(a, s);
  const double sum = x + y;
  // Both can underflow to 0 for tiny a: then either side is equally likely, so take the pair's first uniform.
  if (!(sum > 0)) return s.uniform() <= 0.5 ? 0.0 : 1.0;
  return x / sum;
}

// mixup's per-batch arguments: lambda ~ Beta(alpha, alpha).
inline MixupArgs make_mixup_args(double alpha, uint64_t seed, uint64_t step) {
  MixupArgs a;
  a.seed = seed;
  a.step = step;
  a.lambda = static_cast<float>(beta_draw(alpha, seed, step, kBetaMixup));
  a.one_minus_lambda = 1.0f - a.lambda;
  return a;
}

// RICAP's per-batch arguments for H x W images: w = round(W Beta), h = round(H Beta), offsets, area weights.
inline RicapArgs make_ricap_args(double beta, int H, int W, uint64_t seed, uint64_t step) {
  BTS_CHECK(H > 0 && W > 0, "make_ricap_args: image " << H << "x" << W);
  RicapArgs a;
  a.seed = seed;
  a.step = step;
  a.w = static_cast<int>(std::lround(W * beta_draw(beta, seed, step, kBetaRicapW)));
  a.h = static_cast<int>(std::lround(H * beta_draw(beta, seed, step, kBetaRicapH)));
  a.w = a.w < 0 ? 0 : (a.w > W ? W : a.w);
  a.h = a.h < 0 ? 0 : (a.h > H ? H : a.h);
  for (int k = 0; k < 4; ++k) {
    const int tw = ricap_tile_width(a.w, W, k), th = ricap_tile_height(a.h, H, k);
    ricap_draw_offset(seed, step, k, tw, th, W, H, &a.ox[k], &a.oy[k]);
    a.weight[k] = static_cast<float>(static_cast<double>(tw) * th / (static_cast<double>(W) * H));
  }
  return a;
}

inline CutoutArgs make_cutout_args(int size, uint64_t seed, uint64_t step) {
  BTS_CHECK(size >= 0, "make_cutout_args: hole side " << size << ", expected >= 0");
  CutoutArgs a;
  a.seed = seed;
  a.step = step;
  a.size = size;
  return a;
}

// Argument checks shared by the CPU twins and the CUDA launchers, so both reject the same calls.
inline void check_mix_batch(const char* op, int64_t b, int c, int h, int w) {
  BTS_CHECK(b >= 0 && b <= kMixMaxBatch, op << ": batch of " << b << " samples, expected 0.." << kMixMaxBatch);
  BTS_CHECK(c >= 1 && h >= 1 && w >= 1 && static_cast<int64_t>(c) * h * w < (int64_t(1) << 31),
            op << ": bad image shape " << c << "x" << h << "x" << w);
}

inline void check_ricap_args(const RicapArgs& a, int h, int w) {
  BTS_CHECK(a.w >= 0 && a.w <= w && a.h >= 0 && a.h <= h,
            "ricap_batch: boundary (" << a.w << ", " << a.h << ") outside the " << w << "x" << h << " image");
  for (int k = 0; k < 4; ++k) {
    const int tw = ricap_tile_width(a.w, w, k), th = ricap_tile_height(a.h, h, k);
    BTS_CHECK(a.ox[k] >= 0 && a.ox[k] + tw <= w && a.oy[k] >= 0 && a.oy[k] + th <= h,
              "ricap_batch: tile " << k << " (" << tw << "x" << th << " at " << a.ox[k] << ", " << a.oy[k]
                                   << ") leaves the " << w << "x" << h << " image");
  }
}

// Cutout hole side per data set: the paper's 16 (cifar10), 8 (cifar100), 20 (svhn). Our choices, not the paper's:
// fashion-mnist 12 (28x28: about the CIFAR-10 ratio 0.5 of the side, a little less because the garment fills less
// of the frame) and miniimagenet 40 (84x84: about half the side, as CIFAR-10).
inline int default_cutout_size(const std::string& dataset) {
  if (dataset == "cifar10") return 16;
  if (dataset == "cifar100") return 8;
  if (dataset == "svhn") return 20;
  if (dataset == "fashion-mnist") return 12;
  if (dataset == "miniimagenet") return 40;
  BTS_FAIL("default_cutout_size: no default for data set '" << dataset
                                                            << "', expected cifar10, cifar100, svhn, miniimagenet "
                                                               "or fashion-mnist");
}

}  // namespace bts::kernels
