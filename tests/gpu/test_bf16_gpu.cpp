// bf16 on the GPU against the CPU reference: the conversions bit for bit (they share kernels/common/bf16.h's
// rounding), and ops between casts (bf16 ops are f32 kernels between roundings, engine/ops.cpp) within bf16's
// precision.
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/ops.h"
#include "kernels/cpu/convert.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/convert.h"
#include "tests/common/helpers.h"
#include "tests/gpu/gpu_helpers.h"

using namespace bts;
using bts::test::random_tensor;
using bts::test::rel_error;

TEST_SUITE("bf16_gpu") {

TEST_CASE("f32 <-> bf16 conversions on the GPU equal the CPU's bit for bit, plain and accumulating") {
  cudaStream_t s = kernels::cuda::current_context().stream();
  // Every 509th 32-bit pattern (all exponents, signs, NaN payloads, subnormals) and every bf16 pattern.
  std::vector<float> f32;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 509) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    f32.push_back(v);
  }
  const int64_t n = static_cast<int64_t>(f32.size());
  std::vector<uint16_t> bf(65536);
  for (uint32_t i = 0; i < 65536; ++i) bf[i] = static_cast<uint16_t>(i);
  // bf16 tensors hold BFloat16 (engine/dtype.h): its bits are the uint16 the kernels take.
  auto bf16_tensor = [](const std::vector<uint16_t>& bits) {
    std::vector<BFloat16> v(bits.size());
    for (size_t i = 0; i < bits.size(); ++i) v[i].bits = bits[i];
    return Tensor::from_vector<BFloat16>(v, {static_cast<int64_t>(v.size())}).to(Device::CUDA);
  };
  auto bits_of = [](Tensor& t) { return reinterpret_cast<uint16_t*>(t.data<BFloat16>()); };
  Tensor f_d = Tensor::from_vector<float>(f32, {n}).to(Device::CUDA);
  for (bool accumulate : {false, true}) {
    // f32 -> bf16 (accumulating onto a bf16 destination that holds a rounded copy of the values)
    std::vector<uint16_t> cpu(static_cast<size_t>(n), 0);
    if (accumulate) kernels::cpu::convert_f32_to_bf16(n, f32.data(), cpu.data(), false);
    std::vector<uint16_t> start = cpu;
    Tensor start_d = bf16_tensor(start);
    kernels::cpu::convert_f32_to_bf16(n, f32.data(), cpu.data(), accumulate);
    kernels::cuda::convert_f32_to_bf16(s, n, f_d.data<float>(), bits_of(start_d), accumulate);
    Tensor back = start_d.to(Device::CPU);
    CHECK_MESSAGE(std::memcmp(bits_of(back), cpu.data(), cpu.size() * 2) == 0,
                  "f32 -> bf16, accumulate " << accumulate);
    // bf16 -> f32
    std::vector<float> cpu32(65536, 0.f), start32(65536, 0.f);
    if (accumulate)
      for (size_t i = 0; i < start32.size(); ++i) start32[i] = static_cast<float>(i % 97) - 48.f;
    cpu32 = start32;
    Tensor bf_d = bf16_tensor(bf);
    Tensor out32_d = Tensor::from_vector<float>(start32, {65536}).to(Device::CUDA);
    kernels::cpu::convert_bf16_to_f32(65536, bf.data(), cpu32.data(), accumulate);
    kernels::cuda::convert_bf16_to_f32(s, 65536, bits_of(bf_d), out32_d.data<float>(), accumulate);
    const Tensor back32 = out32_d.to(Device::CPU);
    CHECK_MESSAGE(std::memcmp(back32.data<float>(), cpu32.data(), cpu32.size() * 4) == 0,
                  "bf16 -> f32, accumulate " << accumulate);
  }
}

TEST_CASE("ops between bf16 casts on the GPU vs the CPU: conv, BatchNorm + ReLU, add + ReLU, forward and backward") {
  bts::test::Tf32Scope tf32_off(false);
  Rng rng(17);
  Tensor x = random_tensor({8, 16, 12, 12}, DType::F32, rng), w = random_tensor({16, 16, 3, 3}, DType::F32, rng, 0.2);
  Tensor gamma = random_tensor({16}, DType::F32, rng), beta = random_tensor({16}, DType::F32, rng);
  Tensor rm = Tensor::zeros({16}, DType::F32), rv = Tensor::empty({16}, DType::F32);
  rv.fill(1.0);
  Tensor rm_d = rm.to(Device::CUDA), rv_d = rv.to(Device::CUDA);
  // y = relu(bn(conv(x16, w16)) + x16), with every activation in bf16 and the loss-side gradient random.
  auto run = [&](Device dev, Tensor& run_mean, Tensor& run_var, std::vector<Tensor>& grads) {
    Tape t(dev);
    Var vx = t.leaf(x.to(dev), true), vw = t.leaf(w.to(dev), true);
    Var vg = t.leaf(gamma.to(dev), true), vb = t.leaf(beta.to(dev), true);
    Var x16 = cast(t, vx, DType::BF16);
    Var h = conv2d(t, x16, cast(t, vw, DType::BF16), 1, 1);
    h = batchnorm2d_relu(t, h, vg, vb, run_mean, run_var, true, 0.1, 1e-5);
    Var y = cast(t, add_relu(t, h, x16), DType::F32);
    Rng r(3);
    t.backward(y, random_tensor(y.shape(), DType::F32, r).to(dev));
    grads.clear();
    for (Var v : {vx, vw, vg, vb}) grads.push_back(t.grad(v).to(Device::CPU));
    return y.value().to(Device::CPU);
  };
  std::vector<Tensor> gc, gg;
  const Tensor yc = run(Device::CPU, rm, rv, gc);
  const Tensor yg = run(Device::CUDA, rm_d, rv_d, gg);
  // Where the f32 kernels' last bits differ, a value can round to the neighbouring bf16 (2^-8 relative): a few
  // such elements move the norm-wise error by ~1e-3 at most; a wrong kernel moves it by ~1.
  const double ey = rel_error(yg, yc);
  std::printf("  bf16 block forward rel error %.2e\n", ey);
  CHECK(ey < 5e-3);
  const char* names[] = {"x", "w", "gamma", "beta"};
  for (size_t i = 0; i < gc.size(); ++i) {
    const double e = rel_error(gg[i], gc[i]);
    std::printf("  bf16 block gradient of %s rel error %.2e\n", names[i], e);
    CHECK_MESSAGE(e < 2e-2, names[i] << " rel error " << e);
  }
  CHECK(rel_error(rm_d.to_double_vector(), rm.to_double_vector()) < 1e-3);
}

}  // TEST_SUITE
