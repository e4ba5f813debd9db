// The mixing kernels (kernels/cuda/mixing.cu) against their CPU twins (kernels/cpu/mixing.cpp): mixup, RICAP and
// cutout must give bit-identical images, target labels, weights and source slots for the same arguments, on random
// batches of several shapes (odd sizes, one sample, the largest batch the permutation kernel takes), with every
// output NaN/-7-poisoned first so an unwritten element fails; RICAP also at its degenerate boundaries.
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/backend.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/common/mixing.h"
#include "kernels/cpu/mixing.h"
#include "kernels/cuda/mixing.h"
#include "tests/gpu/gpu_helpers.h"
#include "train/batch_mixing.h"

using namespace bts;
using namespace bts::kernels;
using bts::test::DeviceCopy;

namespace {

struct Shape4 {
  int64_t b;
  int c, h, w;
  int64_t numel() const { return b * c * static_cast<int64_t>(h) * w; }
};

Tensor random_images(const Shape4& s, uint64_t seed) {
  Rng rng(seed, 5);
  Tensor t = Tensor::empty({s.b, s.c, s.h, s.w}, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(2.0 * rng.normal());
  return t;
}

Tensor random_labels(int64_t b, uint64_t seed) {
  Rng rng(seed, 6);
  std::vector<int32_t> v(static_cast<size_t>(b));
  for (auto& x : v) x = static_cast<int32_t>(rng.below(100));
  return Tensor::from_vector(v, {b});
}

int64_t mismatches(const Tensor& gpu, const Tensor& cpu) {
  Tensor g = gpu.to(Device::CPU);
  REQUIRE(g.bytes() == cpu.bytes());
  const size_t elem = dtype_size(cpu.dtype());
  int64_t bad = 0;
  for (int64_t i = 0; i < cpu.numel(); ++i)
    bad += std::memcmp(static_cast<const char*>(g.raw()) + i * elem, static_cast<const char*>(cpu.raw()) + i * elem,
                       elem) != 0;
  return bad;
}

// The outputs of one mixing op on one device, poisoned.
struct Outputs {
  Tensor images, labels, weights, slots;
  Outputs(const Shape4& s, int M, Device d)
      : images(Tensor::empty({s.b, s.c, s.h, s.w}, DType::F32, d)),
        labels(Tensor::empty({s.b, M}, DType::I32, d)),
        weights(Tensor::empty({s.b, M}, DType::F32, d)),
        slots(Tensor::empty({s.b, M}, DType::I32, d)) {
    images.fill(NAN);
    labels.fill(-7);
    weights.fill(NAN);
    slots.fill(-7);
  }
};

void check_same(const Outputs& gpu, const Outputs& cpu) {
  CHECK(mismatches(gpu.images, cpu.images) == 0);
  CHECK(mismatches(gpu.labels, cpu.labels) == 0);
  CHECK(mismatches(gpu.weights, cpu.weights) == 0);
  CHECK(mismatches(gpu.slots, cpu.slots) == 0);
}

void compare_mixup(const Shape4& s, uint64_t seed, uint64_t step, cudaStream_t stream) {
  const Tensor in = random_images(s, seed + step), labels = random_labels(s.b, seed + step);
  const Tensor din = in.to(Device::CUDA), dlabels = labels.to(Device::CUDA);
  const MixupArgs a = make_mixup_args(0.3, seed, step);
  Outputs cpu(s, kMixupTargets, Device::CPU), gpu(s, kMixupTargets, Device::CUDA);
  cpu::mixup_batch(in.data<float>(), labels.data<int32_t>(), s.b, s.c, s.h, s.w, a, cpu.images.data<float>(),
                   cpu.labels.data<int32_t>(), cpu.weights.data<float>(), cpu.slots.data<int32_t>());
  // Uploads and fills went through cudaMemcpy/cudaMemset on the legacy stream, which a non-blocking stream does not
  // wait for (and a pageable upload may still be in flight when cudaMemcpy returns): finish them first.
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const DeviceCopy<MixupArgs> da(a);
  cuda::mixup_batch(stream, din.data<float>(), dlabels.data<int32_t>(), s.b, s.c, s.h, s.w, da.get(),
                    gpu.images.data<float>(), gpu.labels.data<int32_t>(), gpu.weights.data<float>(),
                    gpu.slots.data<int32_t>());
  REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
  check_same(gpu, cpu);
}

void compare_ricap(const Shape4& s, const RicapArgs& a, cudaStream_t stream, MemoryOrder order = MemoryOrder::NCHW) {
  const Tensor in = random_images(s, a.seed + a.step), labels = random_labels(s.b, a.seed + a.step);
  const Tensor din = in.to(Device::CUDA), dlabels = labels.to(Device::CUDA);
  Outputs cpu(s, kRicapTargets, Device::CPU), gpu(s, kRicapTargets, Device::CUDA);
  cpu::ricap_batch(in.data<float>(), labels.data<int32_t>(), s.b, s.c, s.h, s.w, a, cpu.images.data<float>(),
                   cpu.labels.data<int32_t>(), cpu.weights.data<float>(), cpu.slots.data<int32_t>(), order);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const DeviceCopy<RicapArgs> da(a);
  cuda::ricap_batch(stream, din.data<float>(), dlabels.data<int32_t>(), s.b, s.c, s.h, s.w, da.get(),
                    gpu.images.data<float>(), gpu.labels.data<int32_t>(), gpu.weights.data<float>(),
                    gpu.slots.data<int32_t>(), order);
  REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
  check_same(gpu, cpu);
}

void compare_cutout(const Shape4& s, int size, uint64_t seed, uint64_t step, cudaStream_t stream,
                    MemoryOrder order = MemoryOrder::NCHW) {
  Tensor cpu_images = random_images(s, seed + step);
  Tensor gpu_images = cpu_images.to(Device::CUDA);
  const CutoutArgs a = make_cutout_args(size, seed, step);
  cpu::cutout_batch(cpu_images.data<float>(), s.b, s.c, s.h, s.w, a, order);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  const DeviceCopy<CutoutArgs> da(a);
  cuda::cutout_batch(stream, gpu_images.data<float>(), s.b, s.c, s.h, s.w, da.get(), order);
  REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
  CHECK(mismatches(gpu_images, cpu_images) == 0);
}

const Shape4 kShapes[] = {
    {128, 3, 32, 32},          // CIFAR-like
    {100, 1, 28, 28},          // Fashion-MNIST-like
    {16, 3, 84, 84},           // mini-ImageNet-like
    {33, 2, 9, 7},             // odd everything
    {1, 3, 5, 3},              // one sample
    {kMixMaxBatch, 1, 3, 2},   // the largest batch: 32 KiB of keys in shared memory, 16 x 4 blocks
};

}  // namespace

TEST_SUITE("mixing") {

TEST_CASE("GPU mixup == CPU twin, bit for bit") {
  for (const Shape4& s : kShapes)
    for (uint64_t step = 0; step < 3; ++step) {
      CAPTURE(s.b);
      CAPTURE(s.h);
      CAPTURE(step);
      compare_mixup(s, 31, step, nullptr);
    }
}

TEST_CASE("GPU RICAP == CPU twin, bit for bit, including the degenerate boundaries") {
  for (const Shape4& s : kShapes) {
    for (uint64_t step = 0; step < 3; ++step) {
      CAPTURE(s.b);
      CAPTURE(s.h);
      CAPTURE(step);
      compare_ricap(s, make_ricap_args(0.3, s.h, s.w, 32, step), nullptr);
    }
    // w = 0 (only the right-hand tiles) and w = W, h = H (the top-left tile is the whole image).
    RicapArgs a = make_ricap_args(0.3, s.h, s.w, 33, 0);
    a.w = 0;
    for (int k = 0; k < 4; ++k) {
      const int tw = ricap_tile_width(a.w, s.w, k), th = ricap_tile_height(a.h, s.h, k);
      a.ox[k] = s.w - tw;
      a.oy[k] = s.h - th;
      a.weight[k] = static_cast<float>(double(tw) * th / (double(s.w) * s.h));
    }
    compare_ricap(s, a, nullptr);
    a.w = s.w;
    a.h = s.h;
    for (int k = 0; k < 4; ++k) {
      const int tw = ricap_tile_width(a.w, s.w, k), th = ricap_tile_height(a.h, s.h, k);
      a.ox[k] = 0;
      a.oy[k] = 0;
      a.weight[k] = static_cast<float>(double(tw) * th / (double(s.w) * s.h));
    }
    compare_ricap(s, a, nullptr);
  }
}

TEST_CASE("GPU cutout == CPU twin: default sizes, odd sizes, larger than the image, size 0") {
  for (const Shape4& s : kShapes)
    for (int size : {16, 8, 5, 1, 100, 0}) {
      CAPTURE(s.b);
      CAPTURE(s.h);
      CAPTURE(size);
      compare_cutout(s, size, 34, static_cast<uint64_t>(size), nullptr);
    }
}

// Batches built channels last (the GPU's bf16 and channels-last steps): the same comparison with NHWC images. The
// CPU twins' NHWC output is proved there to be their NCHW output moved (tests/cpu/test_batch_layout.cpp).
TEST_CASE("GPU RICAP and cutout on NHWC batches == CPU twin, bit for bit") {
  for (const Shape4& s : kShapes) {
    CAPTURE(s.b);
    CAPTURE(s.c);
    CAPTURE(s.h);
    compare_ricap(s, make_ricap_args(0.3, s.h, s.w, 35, 2), nullptr, MemoryOrder::NHWC);
    for (int size : {16, 5, 100}) {
      CAPTURE(size);
      compare_cutout(s, size, 36, static_cast<uint64_t>(size), nullptr, MemoryOrder::NHWC);
    }
  }
}

TEST_CASE("GPU mixing on a non-default stream, and an empty batch launches nothing") {
  cudaStream_t st = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) == cudaSuccess);
  const Shape4 s{64, 3, 32, 32};
  compare_mixup(s, 41, 7, st);
  compare_ricap(s, make_ricap_args(0.3, 32, 32, 41, 7), st);
  compare_cutout(s, 16, 41, 7, st);
  cuda::mixup_batch(st, nullptr, nullptr, 0, 3, 32, 32, nullptr, nullptr, nullptr, nullptr, nullptr);
  cuda::cutout_batch(st, nullptr, 0, 3, 32, 32, nullptr);
  REQUIRE(cudaStreamSynchronize(st) == cudaSuccess);
  cudaStreamDestroy(st);
  const DeviceCopy<MixupArgs> da(make_mixup_args(0.3, 0, 0));
  CHECK_THROWS_AS(cuda::mixup_batch(nullptr, nullptr, nullptr, kMixMaxBatch + 1, 3, 32, 32, da.get(), nullptr,
                                    nullptr, nullptr, nullptr),
                  bts::Error);
  // Arguments live on the device now: a missing pointer is refused before any launch.
  Outputs out({4, 3, 32, 32}, kMixupTargets, Device::CUDA);
  const Tensor in = random_images({4, 3, 32, 32}, 1).to(Device::CUDA), labels = random_labels(4, 1).to(Device::CUDA);
  CHECK_THROWS_WITH_AS(cuda::mixup_batch(nullptr, in.data<float>(), labels.data<int32_t>(), 4, 3, 32, 32, nullptr,
                                         out.images.data<float>(), out.labels.data<int32_t>(),
                                         out.weights.data<float>(), out.slots.data<int32_t>()),
                       doctest::Contains("no arguments"), bts::Error);
}

// How a recorded step's per-step inputs reach the device: Backend::write_bytes by kernel argument, in stream order,
// the host buffer free on return; and the mixer split into set_step and mix, the draws written last winning.
TEST_CASE("write_bytes on the GPU: full and odd sizes, in stream order, host buffer reusable; the mixer in two parts") {
  Backend& be = backend(Device::CUDA);
  Tensor dst = Tensor::zeros({2048}, DType::U8, Device::CUDA);
  be.synchronize();
  std::vector<uint8_t> a(kMaxStreamWriteBytes), b(kMaxStreamWriteBytes);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<uint8_t>(i * 7 + 1);
    b[i] = static_cast<uint8_t>(255 - i % 251);
  }
  char* base = static_cast<char*>(dst.raw());
  be.write_bytes(base, a.data(), a.size());          // the whole payload
  be.write_bytes(base + 1024, b.data(), 7);          // an odd size
  be.write_bytes(base, b.data(), 3);                 // after the first, in stream order
  std::fill(a.begin(), a.end(), uint8_t{0});         // the launch took its own copy
  be.synchronize();
  const Tensor host = dst.to(Device::CPU);
  const uint8_t* h = host.data<uint8_t>();
  int64_t bad = 0;
  for (size_t i = 0; i < 1024; ++i) bad += h[i] != (i < 3 ? b[i] : static_cast<uint8_t>(i * 7 + 1));
  for (size_t i = 0; i < 7; ++i) bad += h[1024 + i] != b[i];
  bad += h[1031] != 0;
  CHECK(bad == 0);
  CHECK_THROWS_AS(be.write_bytes(base, b.data(), kMaxStreamWriteBytes + 1), bts::Error);

  const Shape4 s{48, 3, 32, 32};
  const Tensor labels = random_labels(s.b, 77);
  for (const Layout layout : {Layout::NCHW, Layout::NHWC})
  for (const MixingOptions& mo : {MixingOptions{0.3, 0, 16, 9}, MixingOptions{0, 0.3, 0, 9}}) {
    CAPTURE(mo.mixup_alpha);
    CAPTURE(layout_name(layout));
    // The random values taken as a batch in `layout`.
    Tensor in = Tensor::empty({s.b, s.c, s.h, s.w}, DType::F32, Device::CPU, layout);
    in.copy_from(random_images(s, 77));
    BatchMixer cpu(mo, s.b, s.c, s.h, s.w, Device::CPU, layout), gpu(mo, s.b, s.c, s.h, s.w, Device::CUDA, layout);
    Tensor cpu_in = in.clone(), gpu_in = in.to(Device::CUDA);
    const Tensor gpu_labels = labels.to(Device::CUDA);
    be.synchronize();
    gpu.set_step(10);
    gpu.set_step(11);  // wins: written after the first, before the kernels
    gpu.mix(gpu_in, gpu_labels);
    cpu.apply(11, cpu_in, labels);
    be.synchronize();
    CHECK(mismatches(gpu_in, cpu_in) == 0);  // cutout in place
    CHECK(mismatches(gpu.images(), cpu.images()) == 0);
    CHECK(mismatches(gpu.labels(), cpu.labels()) == 0);
    CHECK(mismatches(gpu.label_weights(), cpu.label_weights()) == 0);
    CHECK(mismatches(gpu.source_slot(), cpu.source_slot()) == 0);
  }
}

}  // TEST_SUITE
