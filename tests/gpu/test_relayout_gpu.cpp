// Layout moves on the GPU (kernels/cuda/relayout.cu) against the CPU's, bit for bit: NCHW <-> NHWC in f32 and bf16,
// plain and accumulating (bf16 accumulation adds in fp32 and rounds once on both sides); nChw16c is refused. And
// f32 channels last (Backend::set_f32_channels_last): a ResNet-18 step in NHWC against the same step in NCHW.
#include <cstring>

#include <cstdio>

#include "engine/backend.h"
#include "engine/ops.h"
#include "models/resnet18.h"
#include "tests/common/helpers.h"
#include "tests/gpu/gpu_helpers.h"

using namespace bts;
using bts::test::random_tensor;

namespace {
// Random values in layout l's memory (their order is the layout's), in dtype dt (bf16: rounded from f32).
Tensor random_in(const Shape& s, DType dt, Layout l, Rng& rng) {
  const Tensor f = random_tensor(s, DType::F32, rng);
  const Tensor fl = Tensor::wrap(f.raw(), s, DType::F32, Device::CPU, l);
  if (dt == DType::F32) return fl.clone();
  Tensor r = Tensor::empty(s, dt, Device::CPU, l);
  backend(Device::CPU).convert(fl, DType::BF16, GradTarget{r.raw(), false, l});
  return r;
}
}  // namespace

TEST_SUITE("relayout_gpu") {

TEST_CASE("relayout on the GPU equals the CPU's bit for bit (f32, bf16; plain and accumulating)") {
  Rng rng(41);
  for (DType dt : {DType::F32, DType::BF16})
    for (Shape s : {Shape{2, 3, 5, 7}, Shape{4, 64, 8, 8}, Shape{3, 130, 1, 1}})
      for (Layout from : {Layout::NCHW, Layout::NHWC})
        for (Layout to : {Layout::NCHW, Layout::NHWC})
          for (bool accumulate : {false, true}) {
            INFO(dtype_name(dt) << " " << shape_str(s) << " " << layout_name(from) << " -> " << layout_name(to)
                                << " accumulate " << accumulate);
            const Tensor src = random_in(s, dt, from, rng);
            Tensor cpu = random_in(s, dt, to, rng);
            Tensor gpu = cpu.to(Device::CUDA);
            const Tensor src_d = src.to(Device::CUDA);
            backend(Device::CPU).relayout(src, GradTarget{cpu.raw(), accumulate, to});
            backend(Device::CUDA).relayout(src_d, GradTarget{gpu.raw(), accumulate, to});
            const Tensor back = gpu.to(Device::CPU);
            CHECK(std::memcmp(back.raw(), cpu.raw(), cpu.bytes()) == 0);
          }
  Tensor blocked = Tensor::zeros({1, 16, 2, 2}, DType::F32, Device::CUDA, Layout::NCHW16C);
  Tensor out = Tensor::zeros({1, 16, 2, 2}, DType::F32, Device::CUDA);
  CHECK_THROWS_WITH_AS(backend(Device::CUDA).relayout(blocked, GradTarget{out.raw(), false, Layout::NCHW}),
                       doctest::Contains("nChw16c is a CPU layout"), Error);
}

// A bf16 convolution's weights cast from f32 straight into the kernels' layout (Backend::convert into another layout):
// the GPU's one pass equals the CPU's, bit for bit, both ways, plain and accumulating.
TEST_CASE("cast into another layout on the GPU equals the CPU's bit for bit (f32 -> bf16, bf16 -> f32)") {
  Rng rng(44);
  for (Shape s : {Shape{64, 32, 3, 3}, Shape{3, 5, 7, 2}})
    for (Layout from : {Layout::NCHW, Layout::NHWC})
      for (Layout to : {Layout::NCHW, Layout::NHWC})
        for (bool to_bf16 : {true, false})
          for (bool accumulate : {false, true}) {
            INFO(shape_str(s) << " " << layout_name(from) << " -> " << layout_name(to)
                              << (to_bf16 ? " f32->bf16" : " bf16->f32") << " accumulate " << accumulate);
            const DType sd = to_bf16 ? DType::F32 : DType::BF16, dd = to_bf16 ? DType::BF16 : DType::F32;
            const Tensor src = random_in(s, sd, from, rng);
            Tensor cpu = random_in(s, dd, to, rng);
            Tensor gpu = cpu.to(Device::CUDA);
            const Tensor src_d = src.to(Device::CUDA);
            backend(Device::CPU).convert(src, dd, GradTarget{cpu.raw(), accumulate, to});
            backend(Device::CUDA).convert(src_d, dd, GradTarget{gpu.raw(), accumulate, to});
            const Tensor back = gpu.to(Device::CPU);
            CHECK(std::memcmp(back.raw(), cpu.raw(), cpu.bytes()) == 0);
          }
}

// The same step with every activation NHWC (cuDNN's NHWC f32 convolutions, the NHWC BatchNorm, pool and relayout
// kernels) and NCHW, TF32 off: only the summation orders differ (other cuDNN algorithms, other reduction blocks), so
// fp32 rounding apart they agree; a kernel reading the wrong layout is off by ~1.
TEST_CASE("f32 channels last: a ResNet-18 step in NHWC equals the NCHW step within fp32 rounding") {
  bts::test::Tf32Scope tf32_off(false);
  Rng rng(43);
  const Tensor x = random_tensor({8, 3, 16, 16}, DType::F32, rng);
  Tensor labels = Tensor::empty({8}, DType::I32);
  for (int i = 0; i < 8; ++i) labels.data<int32_t>()[i] = (7 * i) % 10;
  struct Out {
    Tensor logits, grads, running;
  };
  auto step = [&](bool nhwc) {
    Backend& be = backend(Device::CUDA);
    be.set_f32_channels_last(nhwc);
    CHECK(be.activation_layout(DType::F32, 64) == (nhwc ? Layout::NHWC : Layout::NCHW));
    ResNet18 m({0.25, 10, 3});
    m.finalize(DType::F32, Device::CUDA, 13);
    const Targets tg = Targets::hard(labels, DType::F32, Device::CUDA);
    Tape t(Device::CUDA);
    m.zero_grad();
    Var z = m.forward(t, t.input(x.to(Device::CUDA)));
    t.backward(cross_entropy(t, z, tg).total);
    Out o{z.value().to(Device::CPU), m.params().flat_grad().to(Device::CPU), m.buffers().flat_data().to(Device::CPU)};
    be.set_f32_channels_last(false);
    return o;
  };
  const Out nchw = step(false), nhwc = step(true);
  const double ez = bts::test::rel_error(nhwc.logits, nchw.logits), eg = bts::test::rel_error(nhwc.grads, nchw.grads),
               er = bts::test::rel_error(nhwc.running, nchw.running);
  std::printf("  f32 NHWC vs NCHW step: logits %.1e, gradients %.1e, running statistics %.1e\n", ez, eg, er);
  // Two f32 steps that sum in different orders, measured on the CPU (oneDNN against the im2col GEMM and the
  // reference loops, this model at batch 8, five inputs, 2026-12-03): 2e-6 in the logits and the gradients, 5e-8
  // in the running statistics; at batch 16 one input gave 2.4e-4 in the gradients (a ReLU input within a rounding
  // of zero flips its mask, and small-batch BatchNorm backward spreads it). The limits leave room for such flips;
  // a kernel reading the wrong layout is off by ~1.
  CHECK(ez < 1e-3);
  CHECK(eg < 1e-2);
  CHECK(er < 1e-4);
}

}  // TEST_SUITE
