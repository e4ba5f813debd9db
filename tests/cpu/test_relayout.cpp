// Layout moves (Backend::relayout, the `relayout` op) and the convolution path that inserts them: every element
// lands where its layout puts it (against index formulas written out here, not memory_order.h's), accumulation adds
// (bf16: in fp32, rounded once), the op's backward moves the gradient back, and a ResNet-18 step whose convolutions
// get their input in the output's layout (what the CUDA backend asks for) equals the usual one.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <type_traits>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/ops.h"
#include "kernels/common/bf16.h"
#include "models/resnet18.h"
#include "tests/common/helpers.h"

using namespace bts;
using namespace bts::test;

namespace {

// Element (n, c, h, w) of an [N, C, H, W] tensor in each layout, from the layouts' definitions (engine/dtype.h).
int64_t where(Layout l, const Shape& s, int64_t n, int64_t c, int64_t h, int64_t w) {
  const int64_t C = s[1], H = s[2], W = s[3];
  switch (l) {
    case Layout::NHWC: return ((n * H + h) * W + w) * C + c;
    case Layout::NCHW16C: return (((n * (C / 16) + c / 16) * H + h) * W + w) * 16 + c % 16;
    default: return ((n * C + c) * H + h) * W + w;
  }
}

// Over every element (n, c, h, w) of shape s: the sum of f(its offset in layout a, its offset in layout b), e.g. a
// count of misplaced values.
template <class F>
int64_t sum_over_elements(const Shape& s, Layout a, Layout b, F f) {
  int64_t sum = 0;
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w) sum += f(where(a, s, n, c, h, w), where(b, s, n, c, h, w));
  return sum;
}

// The value of position `pos`, unique to it in T: integers for f32/f64; for bf16 (8 significant bits, so integers
// above 256 repeat) 1 + k/128 for k = pos % 128 (exact in bf16) times 2^(pos / 128).
template <typename T>
double value_at(int64_t pos) {
  if constexpr (std::is_same_v<T, BFloat16>)
    return std::ldexp(1.0 + static_cast<double>(pos % 128) / 128.0, static_cast<int>(pos / 128));
  else
    return static_cast<double>(pos);
}

// A tensor in layout l whose element (n, c, h, w) holds a value unique to that position (plus offset).
template <typename T>
Tensor numbered(const Shape& s, DType dt, Layout l, double offset) {
  Tensor t = Tensor::empty(s, dt, Device::CPU, l);
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w) {
          const double v = offset + value_at<T>(((n * s[1] + c) * s[2] + h) * s[3] + w);
          if constexpr (std::is_same_v<T, BFloat16>)
            t.data<BFloat16>()[where(l, s, n, c, h, w)].bits = kernels::bf16_round(static_cast<float>(v));
          else
            t.data<T>()[where(l, s, n, c, h, w)] = static_cast<T>(v);
        }
  return t;
}

template <typename T>
double at(const Tensor& t, int64_t i) {
  if constexpr (std::is_same_v<T, BFloat16>)
    return kernels::bf16_to_f32(t.data<BFloat16>()[i].bits);
  else
    return static_cast<double>(t.data<T>()[i]);
}

template <typename T>
void check_moves(DType dt) {
  const Shape s{3, 32, 2, 5};
  Backend& be = backend(Device::CPU);
  for (Layout from : {Layout::NCHW, Layout::NHWC, Layout::NCHW16C})
    for (Layout to : {Layout::NCHW, Layout::NHWC, Layout::NCHW16C}) {
      INFO(dtype_name(dt) << " " << layout_name(from) << " -> " << layout_name(to));
      const Tensor src = numbered<T>(s, dt, from, 0.0);
      Tensor dst = Tensor::empty(s, dt, Device::CPU, to);
      be.relayout(src, GradTarget{dst.raw(), false, to});
      // Accumulating onto a second numbered tensor adds position by position.
      Tensor acc = numbered<T>(s, dt, to, 0.5);
      be.relayout(src, GradTarget{acc.raw(), true, to});
      int64_t wrong = 0, wrong_acc = 0;
      for (int64_t n = 0; n < s[0]; ++n)
        for (int64_t c = 0; c < s[1]; ++c)
          for (int64_t h = 0; h < s[2]; ++h)
            for (int64_t w = 0; w < s[3]; ++w) {
              const double v = value_at<T>(((n * s[1] + c) * s[2] + h) * s[3] + w);
              const double got = at<T>(dst, where(to, s, n, c, h, w));
              const double got_acc = at<T>(acc, where(to, s, n, c, h, w));
              // bf16 keeps 8 significant bits: the expected values rounded as the kernels round them.
              const double want = std::is_same_v<T, BFloat16> ? kernels::round_to_bf16(static_cast<float>(v)) : v;
              const double want_acc =
                  std::is_same_v<T, BFloat16>
                      ? kernels::round_to_bf16(kernels::round_to_bf16(static_cast<float>(v + 0.5)) +
                                               kernels::round_to_bf16(static_cast<float>(v)))
                      : v + (v + 0.5);
              wrong += got != want;
              wrong_acc += got_acc != want_acc;
            }
      CHECK(wrong == 0);
      CHECK(wrong_acc == 0);
    }
}

}  // namespace

TEST_SUITE("relayout") {

TEST_CASE("relayout moves every element to its place in NCHW, NHWC and nChw16c; accumulation adds") {
  check_moves<float>(DType::F32);
  check_moves<double>(DType::F64);
  check_moves<BFloat16>(DType::BF16);
}

TEST_CASE("the relayout op: forward moves the values, backward moves the gradient back, a no-op is the same Var") {
  Rng rng(5);
  const Tensor x = random_tensor({2, 16, 3, 4}, DType::F32, rng);
  Tape t(Device::CPU);
  Var xv = t.leaf(x, true);
  CHECK(relayout(t, xv, Layout::NCHW).node() == xv.node());
  Var y = relayout(t, xv, Layout::NHWC);
  CHECK(y.value().layout() == Layout::NHWC);
  const Tensor seed = random_tensor(y.value().shape(), DType::F32, rng);  // an NHWC gradient
  Tensor seed_nhwc = Tensor::empty(seed.shape(), DType::F32, Device::CPU, Layout::NHWC);
  std::copy(seed.data<float>(), seed.data<float>() + seed.numel(), seed_nhwc.data<float>());
  t.backward(y, seed_nhwc);
  const Tensor& gx = t.grad(xv);
  CHECK(gx.layout() == Layout::NCHW);
  const int64_t wrong = sum_over_elements(x.shape(), Layout::NCHW, Layout::NHWC, [&](int64_t nchw, int64_t nhwc) {
    return int64_t{y.value().data<float>()[nhwc] != x.data<float>()[nchw]} +
           int64_t{gx.data<float>()[nchw] != seed_nhwc.data<float>()[nhwc]};
  });
  CHECK(wrong == 0);
  CHECK_THROWS_WITH_AS(relayout(t, t.input(Tensor::zeros({4, 16}, DType::F32)), Layout::NHWC),
                       doctest::Contains("not 4-D"), Error);
}

// A bf16 convolution's weights: the f32 master copy cast straight into the kernels' layout. The one-pass cast equals
// a cast and then a relayout, bit for bit, both ways and in every layout pair, plain and accumulating; and through
// the op, the gradient comes back to the f32 copy's layout.
TEST_CASE("cast into another layout: one pass equals a cast then a relayout, both ways, plain and accumulating") {
  Backend& be = backend(Device::CPU);
  Rng rng(7);
  const Shape s{5, 32, 3, 3};  // nChw16c takes channels in sixteens
  for (Layout from : {Layout::NCHW, Layout::NHWC, Layout::NCHW16C})
    for (Layout to : {Layout::NCHW, Layout::NHWC, Layout::NCHW16C})
      for (bool accumulate : {false, true}) {
        CAPTURE(layout_name(from));
        CAPTURE(layout_name(to));
        CAPTURE(accumulate);
        const Tensor f = random_tensor(s, DType::F32, rng);
        const Tensor src = Tensor::wrap(f.raw(), s, DType::F32, Device::CPU, from);
        // f32 -> bf16: into `to` at once, or converted in `from` and then moved.
        Tensor start = Tensor::empty(s, DType::BF16, Device::CPU, to);
        Tensor direct = Tensor::empty(s, DType::BF16, Device::CPU, to);
        be.convert(random_tensor(s, DType::F32, rng), DType::BF16, GradTarget{start.raw(), false, Layout::NCHW});
        std::memcpy(direct.raw(), start.raw(), start.bytes());
        Tensor two = start.clone();
        be.convert(src, DType::BF16, GradTarget{direct.raw(), accumulate, to});
        Tensor mid = Tensor::empty(s, DType::BF16, Device::CPU, from);
        be.convert(src, DType::BF16, GradTarget{mid.raw(), false, from});
        be.relayout(mid, GradTarget{two.raw(), accumulate, to});
        if (!accumulate) {
          CHECK(std::memcmp(direct.raw(), two.raw(), two.bytes()) == 0);
        } else {
          // The two differ by design here (the relayout adds bf16 to bf16, the cast adds the f32 value): the cast
          // adds each f32 value to the widened bf16 at its place in `to` and rounds once.
          const uint16_t* st = reinterpret_cast<const uint16_t*>(start.data<BFloat16>());
          const uint16_t* got = reinterpret_cast<const uint16_t*>(direct.data<BFloat16>());
          CHECK(sum_over_elements(s, from, to, [&](int64_t i, int64_t j) {
                  return int64_t{got[j] != kernels::bf16_round(kernels::bf16_to_f32(st[j]) + f.data<float>()[i])};
                }) == 0);
        }
        // bf16 -> f32: the same both ways (the widening is exact).
        Tensor back_start = random_tensor(s, DType::F32, rng);
        Tensor back_direct = Tensor::wrap(back_start.raw(), s, DType::F32, Device::CPU, from).clone();
        Tensor back_two = back_direct.clone();
        const Tensor b16 = Tensor::wrap(direct.raw(), s, DType::BF16, Device::CPU, to);
        be.convert(b16, DType::F32, GradTarget{back_direct.raw(), accumulate, from});
        Tensor wide = Tensor::empty(s, DType::F32, Device::CPU, to);
        be.convert(b16, DType::F32, GradTarget{wide.raw(), false, to});
        be.relayout(wide, GradTarget{back_two.raw(), accumulate, from});
        CHECK(std::memcmp(back_direct.raw(), back_two.raw(), back_two.bytes()) == 0);
      }
  // Through the op: values in the new layout, the gradient back in the old one, f32.
  Tape t(Device::CPU);
  const Tensor w = random_tensor(s, DType::F32, rng);
  Var wv = t.leaf(w, true);
  Var w16 = cast(t, wv, DType::BF16, Layout::NHWC);
  CHECK(w16.value().layout() == Layout::NHWC);
  CHECK(w16.value().dtype() == DType::BF16);
  Tensor seed = Tensor::empty(s, DType::BF16, Device::CPU, Layout::NHWC);
  be.convert(random_tensor(s, DType::F32, rng), DType::BF16, GradTarget{seed.raw(), false, Layout::NCHW});
  t.backward(w16, seed);
  CHECK(t.grad(wv).layout() == Layout::NCHW);
  CHECK(t.grad(wv).dtype() == DType::F32);
  const int64_t wrong = sum_over_elements(s, Layout::NCHW, Layout::NHWC, [&](int64_t nchw, int64_t nhwc) {
    return int64_t{w16.value().data<BFloat16>()[nhwc].bits != kernels::bf16_round(w.data<float>()[nchw])} +
           int64_t{t.grad(wv).data<float>()[nchw] != kernels::bf16_to_f32(seed.data<BFloat16>()[nhwc].bits)};
  });
  CHECK(wrong == 0);
}

// The CUDA backend wants a convolution's input in its output's layout; oneDNN does not need it, so the CPU proves
// that path of engine/ops.cpp by asking for it too: the same logits, gradients and statistics.
TEST_CASE("a ResNet-18 step with each convolution's input brought to its output's layout equals the usual step") {
  auto& cpu = dynamic_cast<CpuBackend&>(backend(Device::CPU));
  if (cpu.activation_layout(DType::F32, 64) == Layout::NCHW) {
    MESSAGE("this build's CPU convolutions output NCHW: there is nothing to bring into another layout");
    return;
  }
  Rng rng(8);
  const Tensor x = random_tensor({4, 3, 16, 16}, DType::F32, rng);
  Tensor labels = Tensor::empty({4}, DType::I32);
  for (int i = 0; i < 4; ++i) labels.data<int32_t>()[i] = i % 10;
  const Targets tg = Targets::hard(labels, DType::F32, Device::CPU);
  auto step = [&](bool follow, Tensor& logits, Tensor& grads, Tensor& running) {
    cpu.set_conv_input_follows_output(follow);
    ResNet18 m({0.25, 10, 3});
    m.finalize(DType::F32, Device::CPU, 21);
    Tape t(Device::CPU);
    m.zero_grad();
    Var z = m.forward(t, t.input(x));
    t.backward(cross_entropy(t, z, tg).total);
    logits = z.value().clone();
    grads = m.params().flat_grad().clone();
    running = m.buffers().flat_data().clone();
    cpu.set_conv_input_follows_output(false);
  };
  Tensor z0, g0, r0, z1, g1, r1;
  step(false, z0, g0, r0);
  step(true, z1, g1, r1);
  const double ez = rel_error(z1, z0), eg = rel_error(g1, g0), er = rel_error(r1, r0);
  std::printf("  input in the output's layout vs as it comes: logits %.1e, gradients %.1e, running statistics %.1e\n",
              ez, eg, er);
  // The same convolutions on the same values; oneDNN may pick another kernel for another input layout, so the
  // sums can round differently (fp32: ~1e-7 per op, compounded through 20 layers).
  CHECK(ez < 1e-5);
  CHECK(eg < 1e-4);
  CHECK(er < 1e-5);
}

}  // TEST_SUITE
