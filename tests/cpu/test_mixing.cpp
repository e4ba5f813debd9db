// mixup, RICAP and cutout on the CPU twins (kernels/cpu/mixing.h): the Beta sampler's moments, the batch
// permutations, the target matrices (weights, areas, source slots), RICAP's tiling pixel by pixel against geometry
// recomputed here, mixup's pixel formula, cutout's boxes at the borders, reproducibility and the argument checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/mixing.h"
#include "kernels/cpu/mixing.h"

using namespace bts;
using namespace bts::kernels;

namespace {

struct Shape4 {
  int64_t b;
  int c, h, w;
  int64_t per_sample() const { return static_cast<int64_t>(c) * h * w; }
  int64_t numel() const { return b * per_sample(); }
};

// Pixel (i, ch, y, x) = 100000 i + 1000 ch + (y w + x) + 1: distinct, nonzero, exact in float, and decodable.
std::vector<float> coded_images(const Shape4& s) {
  std::vector<float> v(static_cast<size_t>(s.numel()));
  for (int64_t i = 0; i < s.b; ++i)
    for (int ch = 0; ch < s.c; ++ch)
      for (int p = 0; p < s.h * s.w; ++p) {
        const size_t e = static_cast<size_t>(i * s.per_sample() + ch * s.h * s.w + p);
        v[e] = static_cast<float>(100000 * i + 1000 * ch + p + 1);
      }
  return v;
}

std::vector<int32_t> labels_for(int64_t b) {
  std::vector<int32_t> l(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) l[i] = static_cast<int32_t>((7 * i + 3) % 10);
  return l;
}

struct Mixed {
  std::vector<float> images, weights;
  std::vector<int32_t> labels, slots;
};

Mixed run_mixup(const Shape4& s, const std::vector<float>& in, const MixupArgs& a) {
  Mixed m{std::vector<float>(in.size(), NAN), std::vector<float>(2 * s.b, NAN), std::vector<int32_t>(2 * s.b, -7),
          std::vector<int32_t>(2 * s.b, -7)};
  const std::vector<int32_t> labels = labels_for(s.b);
  cpu::mixup_batch(in.data(), labels.data(), s.b, s.c, s.h, s.w, a, m.images.data(), m.labels.data(),
                   m.weights.data(), m.slots.data());
  return m;
}

Mixed run_ricap(const Shape4& s, const std::vector<float>& in, const RicapArgs& a) {
  Mixed m{std::vector<float>(in.size(), NAN), std::vector<float>(4 * s.b, NAN), std::vector<int32_t>(4 * s.b, -7),
          std::vector<int32_t>(4 * s.b, -7)};
  const std::vector<int32_t> labels = labels_for(s.b);
  cpu::ricap_batch(in.data(), labels.data(), s.b, s.c, s.h, s.w, a, m.images.data(), m.labels.data(),
                   m.weights.data(), m.slots.data());
  return m;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Row sums of a [b, M] weight matrix are 1, every weight in [0, 1]; labels_out[i, k] == labels[source_slot[i, k]].
void check_targets(const Mixed& m, int64_t b, int M) {
  const std::vector<int32_t> labels = labels_for(b);
  for (int64_t i = 0; i < b; ++i) {
    double sum = 0;
    for (int k = 0; k < M; ++k) {
      const float wgt = m.weights[i * M + k];
      CHECK(wgt >= 0.0f);
      CHECK(wgt <= 1.0f);
      sum += wgt;
      const int32_t slot = m.slots[i * M + k];
      REQUIRE(slot >= 0);
      REQUIRE(slot < b);
      CHECK(m.labels[i * M + k] == labels[slot]);
    }
    CHECK(std::fabs(sum - 1.0) <= 1e-6);
  }
}

bool is_permutation(const std::vector<int32_t>& p) {
  std::vector<int32_t> q = p;
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i)
    if (q[i] != static_cast<int32_t>(i)) return false;
  return true;
}

std::vector<int32_t> permutation(uint64_t seed, uint64_t step, int k, int64_t b) {
  std::vector<int32_t> p(static_cast<size_t>(b), -1);
  cpu::mix_permutation(seed, step, k, b, p.data());
  return p;
}

}  // namespace

TEST_SUITE("mixing") {

TEST_CASE("Beta(a, a) draws lie in [0, 1] with mean 1/2 and variance 1/(4(2a+1))") {
  const int n = 100000;
  for (double a : {0.3, 1.0, 2.5}) {
    CAPTURE(a);
    double sum = 0, sum2 = 0, lo = 1, hi = 0;
    for (int s = 0; s < n; ++s) {
      const double x = beta_draw(a, 42, static_cast<uint64_t>(s), kBetaMixup);
      REQUIRE(x >= 0.0);
      REQUIRE(x <= 1.0);
      sum += x;
      sum2 += x * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    const double mean = sum / n, var = sum2 / n - mean * mean, want_var = 1.0 / (4.0 * (2.0 * a + 1.0));
    // About five standard errors: sd(mean) = sqrt(var / n) <= 0.0013; sd(var estimate) <= 0.0003 here.
    CHECK(std::fabs(mean - 0.5) < 0.0065);
    CHECK(std::fabs(var - want_var) < 0.0015);
    CHECK(lo < 0.03);  // the range is explored (about 85 draws below 0.03 even for a = 2.5)
    CHECK(hi > 0.97);
  }
  // U-shaped for a < 1: P(x < 0.05) = I_0.05(0.3, 0.3) ~ 0.228, so about 0.455 of the mass is in the two tails.
  int tails = 0;
  for (int s = 0; s < 20000; ++s) {
    const double x = beta_draw(0.3, 7, static_cast<uint64_t>(s), kBetaMixup);
    tails += x < 0.05 || x > 0.95;
  }
  CHECK(tails > 20000 * 0.435);  // sd of the fraction: 0.0035
  CHECK(tails < 20000 * 0.475);
}

TEST_CASE("Beta draws are reproducible, differ between steps and sub-streams, reject bad parameters") {
  CHECK(beta_draw(0.3, 1, 5, kBetaMixup) == beta_draw(0.3, 1, 5, kBetaMixup));
  CHECK(beta_draw(0.3, 1, 5, kBetaMixup) != beta_draw(0.3, 1, 6, kBetaMixup));
  CHECK(beta_draw(0.3, 1, 5, kBetaRicapW) != beta_draw(0.3, 1, 5, kBetaRicapH));
  CHECK(beta_draw(0.3, 1, 5, kBetaMixup) != beta_draw(0.3, 2, 5, kBetaMixup));
  CHECK_THROWS_AS(beta_draw(0.0, 1, 5, kBetaMixup), bts::Error);
  CHECK_THROWS_AS(beta_draw(-1.0, 1, 5, kBetaMixup), bts::Error);
  CHECK_THROWS_AS(beta_draw(NAN, 1, 5, kBetaMixup), bts::Error);
  const MixupArgs m = make_mixup_args(0.3, 1, 5);
  CHECK(m.lambda == static_cast<float>(beta_draw(0.3, 1, 5, kBetaMixup)));
  CHECK(m.one_minus_lambda == 1.0f - m.lambda);
}

TEST_CASE("batch permutations are permutations, reproducible, and differ across steps, seeds and k") {
  for (int64_t b : {1, 2, 7, 128, 1000}) {
    CAPTURE(b);
    for (uint64_t step = 0; step < 5; ++step) CHECK(is_permutation(permutation(3, step, 0, b)));
    CHECK(permutation(3, 9, 2, b) == permutation(3, 9, 2, b));
    if (b >= 7) {
      CHECK(permutation(3, 0, 0, b) != permutation(3, 1, 0, b));
      CHECK(permutation(3, 0, 0, b) != permutation(4, 0, 0, b));
      CHECK(permutation(3, 0, 0, b) != permutation(3, 0, 1, b));
    }
  }
  // Uniform over the 6 permutations of 3 slots: 6000 steps give about 1000 each (sd 29).
  std::map<std::vector<int32_t>, int> count;
  for (uint64_t step = 0; step < 6000; ++step) ++count[permutation(11, step, 0, 3)];
  CHECK(count.size() == 6);
  for (const auto& [p, n] : count) CHECK(std::abs(n - 1000) < 150);
  // Ties between keys are broken by slot, so equal keys still give a permutation.
  const uint64_t keys[4] = {5, 2, 5, 2};
  CHECK(permutation_rank(keys, 4, 0) == 2);
  CHECK(permutation_rank(keys, 4, 1) == 0);
  CHECK(permutation_rank(keys, 4, 2) == 3);
  CHECK(permutation_rank(keys, 4, 3) == 1);
}

TEST_CASE("mixup: pixels, targets and source slots") {
  const Shape4 s{6, 2, 3, 5};
  const std::vector<float> in = coded_images(s);
  for (uint64_t step = 0; step < 10; ++step) {
    CAPTURE(step);
    const MixupArgs a = make_mixup_args(0.3, 17, step);
    const Mixed m = run_mixup(s, in, a);
    check_targets(m, s.b, kMixupTargets);
    const std::vector<int32_t> perm = permutation(17, step, 0, s.b);
    for (int64_t i = 0; i < s.b; ++i) {
      CHECK(m.slots[2 * i] == i);
      CHECK(m.slots[2 * i + 1] == perm[i]);
      CHECK(m.weights[2 * i] == a.lambda);
      CHECK(m.weights[2 * i + 1] == a.one_minus_lambda);
      for (int64_t e = 0; e < s.per_sample(); ++e) {
        const float own = in[i * s.per_sample() + e], partner = in[perm[i] * s.per_sample() + e];
        const float got = m.images[i * s.per_sample() + e];
        REQUIRE(got == std::fmaf(a.lambda, own, a.one_minus_lambda * partner));
        REQUIRE(std::fabs(got - (a.lambda * double(own) + (1.0 - a.lambda) * partner)) <= 1e-6 * std::fabs(got) + 1e-3);
      }
    }
  }
  // A hand-computed pixel: lambda = 1/4, own 8, partner 4 -> 2 + 3 = 5.
  MixupArgs a;
  a.lambda = 0.25f;
  a.one_minus_lambda = 0.75f;
  CHECK(mixup_pixel(a, 8.0f, 4.0f) == 5.0f);
  CHECK(mixup_pixel(a, -2.0f, 2.0f) == 1.0f);
}

TEST_CASE("RICAP: geometry and offsets in range, weights equal the tile areas") {
  std::set<int> ws;
  std::set<int> ox0;
  for (uint64_t step = 0; step < 2000; ++step) {
    const int H = 7, W = 9;
    const RicapArgs a = make_ricap_args(0.3, H, W, 5, step);
    REQUIRE(a.w >= 0);
    REQUIRE(a.w <= W);
    REQUIRE(a.h >= 0);
    REQUIRE(a.h <= H);
    ws.insert(a.w);
    const int tw[4] = {a.w, W - a.w, a.w, W - a.w}, th[4] = {a.h, a.h, H - a.h, H - a.h};
    double total = 0;
    for (int k = 0; k < 4; ++k) {
      REQUIRE(a.ox[k] >= 0);
      REQUIRE(a.ox[k] <= W - tw[k]);
      REQUIRE(a.oy[k] >= 0);
      REQUIRE(a.oy[k] <= H - th[k]);
      CHECK(a.weight[k] == static_cast<float>(tw[k] * th[k] / 63.0));
      total += a.weight[k];
    }
    CHECK(std::fabs(total - 1.0) <= 1e-6);
    if (a.w == 3) ox0.insert(a.ox[0]);
  }
  CHECK(ws.size() == 10);   // every boundary 0..9 occurs (Beta(0.3, 0.3) puts mass near both ends)
  CHECK(ox0.size() == 7);   // a 3-wide tile in a 9-wide image takes every offset 0..6
  CHECK(ws.count(0) == 1);
  CHECK(ws.count(9) == 1);
}

TEST_CASE("RICAP: every output pixel comes from exactly one tile, copied from its source at the tile's offset") {
  for (const Shape4& s : {Shape4{5, 2, 7, 9}, Shape4{8, 3, 8, 8}, Shape4{1, 1, 4, 3}, Shape4{3, 1, 1, 1}}) {
    for (uint64_t step = 0; step < 40; ++step) {
      CAPTURE(s.b);
      CAPTURE(s.h);
      CAPTURE(step);
      const std::vector<float> in = coded_images(s);
      RicapArgs a = make_ricap_args(0.3, s.h, s.w, 9, step);
      if (step == 0) {  // the degenerate boundaries: one tile covers all, the others are empty
        a.w = 0;
        a.h = s.h;
      }
      if (step == 1) {
        a.w = s.w;
        a.h = 0;
      }
      for (int k = 0; k < 4 && step < 2; ++k) {
        const int tw = (k & 1) ? s.w - a.w : a.w, th = (k & 2) ? s.h - a.h : a.h;
        a.ox[k] = s.w - tw;
        a.oy[k] = s.h - th;
        a.weight[k] = static_cast<float>(double(tw) * th / (s.h * s.w));
      }
      const Mixed m = run_ricap(s, in, a);
      check_targets(m, s.b, kRicapTargets);
      for (int k = 0; k < 4; ++k) {
        const std::vector<int32_t> perm = permutation(9, step, k, s.b);
        for (int64_t i = 0; i < s.b; ++i) CHECK(m.slots[4 * i + k] == perm[i]);
      }
      for (int64_t i = 0; i < s.b; ++i) {
        int64_t area[4] = {0, 0, 0, 0};
        for (int ch = 0; ch < s.c; ++ch)
          for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x) {
              // The tile by the geometry: columns [0, w) are left, rows [0, h) are top.
              const int k = (x >= a.w ? 1 : 0) + (y >= a.h ? 2 : 0);
              const int ly = y - (k >= 2 ? a.h : 0), lx = x - (k & 1 ? a.w : 0);
              const float got = m.images[i * s.per_sample() + (ch * s.h + y) * s.w + x];
              REQUIRE(!std::isnan(got));
              const int64_t code = static_cast<int64_t>(got) - 1;
              const int64_t src = code / 100000, src_ch = code % 100000 / 1000, p = code % 1000;
              REQUIRE(src == m.slots[4 * i + k]);
              REQUIRE(src_ch == ch);
              REQUIRE(p / s.w == a.oy[k] + ly);
              REQUIRE(p % s.w == a.ox[k] + lx);
              if (ch == 0) ++area[k];
            }
        for (int k = 0; k < 4; ++k) {
          const int tw = (k & 1) ? s.w - a.w : a.w, th = (k & 2) ? s.h - a.h : a.h;
          CHECK(area[k] == static_cast<int64_t>(tw) * th);
          CHECK(m.weights[4 * i + k] == static_cast<float>(double(area[k]) / (s.h * s.w)));
        }
      }
    }
  }
}

TEST_CASE("cutout boxes by hand: interior, corners, odd side, larger than the image") {
  // The first step whose slot-0 centre is (cy, cx) in an H x W image.
  auto step_with_centre = [](int H, int W, int cy, int cx) {
    for (uint64_t step = 0; step < 200000; ++step) {
      const CutoutCentre c = cutout_centre(CutoutArgs{3, step, 1}, 0, H, W);
      if (c.cy == cy && c.cx == cx) return step;
    }
    FAIL("no step draws centre (" << cy << ", " << cx << ")");
    return uint64_t(0);
  };
  struct Case {
    int H, W, L, cy, cx, y0, y1, x0, x1;
  };
  const Case cases[] = {
      {8, 8, 4, 3, 4, 1, 5, 2, 6},   // interior: [c - 2, c + 2)
      {8, 8, 4, 0, 0, 0, 2, 0, 2},   // top-left corner: clipped to 2 x 2
      {8, 8, 4, 7, 7, 5, 8, 5, 8},   // bottom-right corner: clipped to 3 x 3
      {8, 8, 4, 0, 7, 0, 2, 5, 8},   // top-right
      {9, 7, 5, 4, 3, 2, 7, 1, 6},   // odd side: [c - 2, c + 3), exactly 5 wide
      {9, 7, 5, 8, 0, 6, 9, 0, 3},   // odd side at a corner
      {8, 8, 20, 5, 2, 0, 8, 0, 8},  // larger than the image: everything
      {8, 8, 1, 6, 1, 6, 7, 1, 2},   // one pixel
  };
  for (const Case& t : cases) {
    CAPTURE(t.L);
    CAPTURE(t.cy);
    CAPTURE(t.cx);
    const uint64_t step = step_with_centre(t.H, t.W, t.cy, t.cx);
    const CutoutBox b = cutout_box(CutoutArgs{3, step, t.L}, 0, t.H, t.W);
    CHECK(b.y0 == t.y0);
    CHECK(b.y1 == t.y1);
    CHECK(b.x0 == t.x0);
    CHECK(b.x1 == t.x1);
    // The batch op zeroes exactly that box in every channel and leaves the rest alone.
    const Shape4 s{1, 2, t.H, t.W};
    std::vector<float> img = coded_images(s);
    const std::vector<float> before = img;
    cpu::cutout_batch(img.data(), 1, 2, t.H, t.W, CutoutArgs{3, step, t.L});
    for (int ch = 0; ch < 2; ++ch)
      for (int y = 0; y < t.H; ++y)
        for (int x = 0; x < t.W; ++x) {
          const size_t e = static_cast<size_t>((ch * t.H + y) * t.W + x);
          const bool hole = y >= t.y0 && y < t.y1 && x >= t.x0 && x < t.x1;
          CHECK(img[e] == (hole ? 0.0f : before[e]));
        }
  }
}

TEST_CASE("cutout on a batch: each slot's own box, centres uniform, size 0 is a no-op") {
  const Shape4 s{64, 3, 10, 12};
  const std::vector<float> before = coded_images(s);
  std::vector<float> img = before;
  const CutoutArgs a = make_cutout_args(5, 21, 4);
  cpu::cutout_batch(img.data(), s.b, s.c, s.h, s.w, a);
  std::set<std::pair<int, int>> centres;
  for (int64_t i = 0; i < s.b; ++i) {
    const CutoutCentre c = cutout_centre(a, i, s.h, s.w);
    centres.insert({c.cy, c.cx});
    const int y0 = std::max(0, c.cy - 2), y1 = std::min(s.h, c.cy + 3), x0 = std::max(0, c.cx - 2),
              x1 = std::min(s.w, c.cx + 3);
    int64_t zeros = 0;
    for (int ch = 0; ch < s.c; ++ch)
      for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x) {
          const size_t e = static_cast<size_t>(i * s.per_sample() + (ch * s.h + y) * s.w + x);
          const bool hole = y >= y0 && y < y1 && x >= x0 && x < x1;
          REQUIRE(img[e] == (hole ? 0.0f : before[e]));
          zeros += img[e] == 0.0f;
        }
    CHECK(zeros == int64_t(s.c) * (y1 - y0) * (x1 - x0));
  }
  CHECK(centres.size() > 40);  // slots draw their own centres
  // Centres cover the 8 x 8 pixels evenly: 64,000 draws, about 1000 each (sd 31).
  std::vector<int> count(64, 0);
  for (uint64_t step = 0; step < 1000; ++step)
    for (int64_t slot = 0; slot < 64; ++slot) {
      const CutoutCentre c = cutout_centre(CutoutArgs{1, step, 8}, slot, 8, 8);
      REQUIRE(c.cy >= 0);
      REQUIRE(c.cy < 8);
      REQUIRE(c.cx >= 0);
      REQUIRE(c.cx < 8);
      ++count[c.cy * 8 + c.cx];
    }
  for (int n : count) CHECK(std::abs(n - 1000) < 160);
  std::vector<float> same = before;
  cpu::cutout_batch(same.data(), s.b, s.c, s.h, s.w, make_cutout_args(0, 21, 4));
  CHECK(same_bits(same, before));
}

TEST_CASE("the same (seed, step) gives the same bits; another step gives other ones") {
  const Shape4 s{16, 3, 8, 8};
  const std::vector<float> in = coded_images(s);
  const Mixed m1 = run_mixup(s, in, make_mixup_args(0.3, 2, 10)), m2 = run_mixup(s, in, make_mixup_args(0.3, 2, 10));
  const Mixed m3 = run_mixup(s, in, make_mixup_args(0.3, 2, 11));
  CHECK(same_bits(m1.images, m2.images));
  CHECK(m1.slots == m2.slots);
  CHECK(!same_bits(m1.images, m3.images));
  const Mixed r1 = run_ricap(s, in, make_ricap_args(0.3, 8, 8, 2, 10));
  const Mixed r2 = run_ricap(s, in, make_ricap_args(0.3, 8, 8, 2, 10));
  const Mixed r3 = run_ricap(s, in, make_ricap_args(0.3, 8, 8, 2, 11));
  CHECK(same_bits(r1.images, r2.images));
  CHECK(same_bits(r1.weights, r2.weights));
  CHECK(r1.slots == r2.slots);
  CHECK(!same_bits(r1.images, r3.images));
  std::vector<float> c1 = in, c2 = in, c3 = in;
  cpu::cutout_batch(c1.data(), s.b, s.c, s.h, s.w, make_cutout_args(4, 2, 10));
  cpu::cutout_batch(c2.data(), s.b, s.c, s.h, s.w, make_cutout_args(4, 2, 10));
  cpu::cutout_batch(c3.data(), s.b, s.c, s.h, s.w, make_cutout_args(4, 2, 11));
  CHECK(same_bits(c1, c2));
  CHECK(!same_bits(c1, c3));
}

TEST_CASE("default cutout sizes and argument checks") {
  CHECK(default_cutout_size("cifar10") == 16);
  CHECK(default_cutout_size("cifar100") == 8);
  CHECK(default_cutout_size("svhn") == 20);
  CHECK(default_cutout_size("fashion-mnist") == 12);
  CHECK(default_cutout_size("miniimagenet") == 40);
  CHECK_THROWS_AS(default_cutout_size("imagenet"), bts::Error);
  CHECK_THROWS_AS(make_cutout_args(-1, 0, 0), bts::Error);

  const Shape4 s{4, 1, 4, 4};
  std::vector<float> in = coded_images(s), out(in.size());
  std::vector<float> wts(16);
  std::vector<int32_t> lab(16), slot(16);
  const std::vector<int32_t> labels = labels_for(4);
  CHECK_THROWS_AS(cpu::mixup_batch(in.data(), labels.data(), 4, 1, 4, 4, make_mixup_args(0.3, 0, 0), in.data(),
                                   lab.data(), wts.data(), slot.data()),
                  bts::Error);
  RicapArgs bad = make_ricap_args(0.3, 4, 4, 0, 0);
  bad.w = 5;
  CHECK_THROWS_AS(cpu::ricap_batch(in.data(), labels.data(), 4, 1, 4, 4, bad, out.data(), lab.data(), wts.data(),
                                   slot.data()),
                  bts::Error);
  bad = make_ricap_args(0.3, 4, 4, 0, 0);
  bad.ox[1] = 4 - (4 - bad.w) + 1;  // one column too far right
  CHECK_THROWS_AS(cpu::ricap_batch(in.data(), labels.data(), 4, 1, 4, 4, bad, out.data(), lab.data(), wts.data(),
                                   slot.data()),
                  bts::Error);
  CHECK_THROWS_AS(cpu::mixup_batch(in.data(), labels.data(), kMixMaxBatch + 1, 1, 4, 4, make_mixup_args(0.3, 0, 0),
                                   out.data(), lab.data(), wts.data(), slot.data()),
                  bts::Error);
  CHECK_THROWS_AS(make_ricap_args(0.0, 4, 4, 0, 0), bts::Error);
}

}  // TEST_SUITE
