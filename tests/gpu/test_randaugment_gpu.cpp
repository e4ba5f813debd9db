// The RandAugment kernels against their CPU twin: same images, indices, seed, step, N and M must give the same
// bytes (outputs poisoned with 0x00 and then 0xFF beforehand, so an unwritten byte fails one of the two runs), on
// random images of several sizes (odd ones and 1x1 included), 1 and 3 channels, 1 to 3 rounds, every op drawn;
// then the whole batch builder with RandAugment on, and the out-of-range index contract. Why: bit-identical twins
// make CPU and GPU runs augment the same images, and let the CPU tests vouch for the GPU kernels.
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/device_dataset.h"
#include "engine/rng.h"
#include "kernels/cuda/context.h"
#include "kernels/common/randaugment.h"
#include "kernels/cpu/randaugment.h"
#include "kernels/cuda/randaugment.h"
#include "tests/common/random_dataset.h"
#include "tests/gpu/gpu_helpers.h"

using namespace bts;
using namespace bts::kernels;
using bts::test::random_dataset;

namespace {

Tensor random_u8(int64_t numel, uint64_t seed) {
  Rng rng(seed, 5);
  Tensor t = Tensor::empty({numel}, DType::U8);
  for (int64_t i = 0; i < numel; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng.below(256));
  // A few low-contrast images exercise AutoContrast's stretch and Equalize's table more than uniform noise does.
  for (int64_t i = 0; i < numel / 3; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(60 + t.data<uint8_t>()[i] % 40);
  return t;
}

int64_t byte_mismatches(const Tensor& gpu, const std::vector<uint8_t>& cpu) {
  Tensor g = gpu.to(Device::CPU);
  REQUIRE(static_cast<size_t>(g.numel()) == cpu.size());
  int64_t bad = 0;
  for (size_t i = 0; i < cpu.size(); ++i) bad += g.data<uint8_t>()[i] != cpu[i];
  return bad;
}

// Runs both sides for (c, h, w) with n_images images and batch b; returns the ops the draws used.
void compare(int c, int h, int w, int64_t n_images, int64_t b, int n, int m, uint64_t seed, uint64_t steps,
             std::set<int>& ops_seen) {
  CAPTURE(c);
  CAPTURE(h);
  CAPTURE(w);
  CAPTURE(n);
  CAPTURE(m);
  const int64_t per = static_cast<int64_t>(c) * h * w;
  Tensor host = random_u8(n_images * per, seed);
  Tensor dev = host.to(Device::CUDA);
  Rng rng(seed, 6);
  std::vector<int32_t> iv(static_cast<size_t>(b));
  for (auto& i : iv) i = static_cast<int32_t>(rng.below(static_cast<uint64_t>(n_images)));
  Tensor idx = Tensor::from_vector(iv, {b}).to(Device::CUDA);
  const size_t scratch_bytes = cuda::randaugment_scratch_bytes(b, c, h, w, n);
  Tensor scratch = Tensor::empty({static_cast<int64_t>(scratch_bytes)}, DType::U8, Device::CUDA);
  Tensor out = Tensor::empty({b * per}, DType::U8, Device::CUDA);
  for (uint64_t step = 0; step < steps; ++step) {
    CAPTURE(step);
    RandAugmentArgs a;
    a.seed = seed;
    a.step = step;
    a.n = n;
    a.m = m;
    std::vector<uint8_t> want(static_cast<size_t>(b * per));
    cpu::randaugment_batch(host.data<uint8_t>(), n_images, iv.data(), b, c, h, w, a, want.data());
    const bts::test::DeviceCopy<RandAugmentPlan> plan(make_checked_randaugment_plan(a, c, h, w));
    for (int64_t s = 0; s < b; ++s)
      for (int r = 0; r < n; ++r)
        ops_seen.insert(static_cast<int>(
            draw_randaugment(seed, step, static_cast<uint32_t>(s), static_cast<uint32_t>(r), h, w).op));
    for (double poison : {0.0, 255.0}) {
      out.fill(poison);
      scratch.fill(poison);
      cuda::randaugment_batch(nullptr, dev.data<uint8_t>(), n_images, idx.data<int32_t>(), b, c, h, w, n, plan.get(),
                              out.data<uint8_t>(), scratch.data<uint8_t>(), scratch_bytes);
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      CHECK(byte_mismatches(out, want) == 0);
    }
    // Without indices: slot s reads image s.
    if (n_images >= b) {
      std::vector<uint8_t> want_seq(static_cast<size_t>(b * per));
      cpu::randaugment_batch(host.data<uint8_t>(), want_seq.data(), b, c, h, w, a);
      out.fill(7.0);
      cuda::randaugment_batch(nullptr, dev.data<uint8_t>(), n_images, nullptr, b, c, h, w, n, plan.get(),
                              out.data<uint8_t>(), scratch.data<uint8_t>(), scratch_bytes);
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      CHECK(byte_mismatches(out, want_seq) == 0);
    }
  }
}

}  // namespace

TEST_SUITE("randaugment_gpu") {

TEST_CASE("GPU RandAugment == CPU twin byte for byte: sizes, channels, rounds, magnitudes; every op drawn") {
  std::set<int> ops;
  compare(3, 32, 32, 300, 128, 2, 4, 1, 3, ops);
  compare(1, 28, 28, 200, 64, 2, 4, 2, 3, ops);
  compare(3, 84, 84, 20, 16, 2, 4, 3, 2, ops);
  compare(3, 33, 17, 50, 40, 1, 30, 4, 3, ops);
  compare(1, 7, 5, 50, 40, 3, 9, 5, 3, ops);
  compare(3, 2, 3, 10, 12, 2, 17, 6, 3, ops);
  compare(1, 1, 1, 10, 9, 3, 30, 7, 3, ops);
  compare(3, 32, 32, 64, 64, 2, 0, 8, 2, ops);
  CHECK(ops.size() == static_cast<size_t>(kRandAugmentOps));
}

TEST_CASE("batch builder with RandAugment on: the GPU equals the CPU twin, also on a stream and after scratch growth") {
  // NHWC: batches built channels last, as for the GPU's bf16 and channels-last steps.
  for (const auto& [c, layout] : {std::pair<int, Layout>{3, Layout::NCHW}, {1, Layout::NCHW}, {3, Layout::NHWC}}) {
    CAPTURE(c);
    CAPTURE(layout_name(layout));
    Dataset d = random_dataset(200, c, 32, 32, true, 10 + c);
    DeviceDataset cpu_ds(d, Device::CPU), gpu_ds(d, Device::CUDA);
    kernels::cuda::Context ctx;  // its own stream, made current for the batch builds below
    for (int64_t b : {32, 128, 64}) {
      CAPTURE(b);
      Rng rng(static_cast<uint64_t>(b), 8);
      std::vector<int32_t> iv(static_cast<size_t>(b));
      for (auto& i : iv) i = static_cast<int32_t>(rng.below(200));
      Tensor idx = Tensor::from_vector(iv, {b});
      BatchOptions opt{21, static_cast<uint64_t>(b), true};
      opt.randaugment_n = 2;
      opt.randaugment_m = 4;
      Batch want = cpu_ds.batch(idx, opt, layout);
      Tensor im = Tensor::empty(want.images.shape(), DType::F32, Device::CUDA, layout);
      Tensor lab = Tensor::empty({b}, DType::I32, Device::CUDA);
      im.fill(NAN);
      lab.fill(-7);
      Tensor dev_idx = idx.to(Device::CUDA);
      // Uploads and fills went to the default context's stream: finish them before another stream reads them.
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      kernels::cuda::set_current_context(&ctx);
      gpu_ds.make_batch(dev_idx, opt, im, lab);
      ctx.synchronize();
      kernels::cuda::set_current_context(nullptr);
      Tensor him = im.to(Device::CPU), hlab = lab.to(Device::CPU);
      CHECK(std::memcmp(him.raw(), want.images.raw(), want.images.bytes()) == 0);
      CHECK(std::memcmp(hlab.raw(), want.labels.raw(), want.labels.bytes()) == 0);
    }
  }
}

TEST_CASE("an out-of-range index with RandAugment on still gives NaN and label -1 on the GPU") {
  Dataset d = random_dataset(10, 3, 8, 8, true, 30);
  DeviceDataset gpu(d, Device::CUDA);
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{3, 10, -1, 9}, {4}).to(Device::CUDA);
  BatchOptions opt{0, 0, true};
  opt.randaugment_n = 2;
  Batch b = gpu.batch(idx, opt);
  Tensor im = b.images.to(Device::CPU), lab = b.labels.to(Device::CPU);
  for (int slot = 0; slot < 4; ++slot) {
    const bool bad = slot == 1 || slot == 2;
    int64_t nan = 0;
    for (int e = 0; e < 192; ++e) nan += std::isnan(im.data<float>()[slot * 192 + e]);
    CHECK(nan == (bad ? 192 : 0));
    CHECK((lab.data<int32_t>()[slot] == -1) == bad);
  }
}

// The two parts a recorded step holds apart: the arguments written (twice, without a wait between: the later one
// must win, in stream order) and then the kernels, which read them on the device.
TEST_CASE("the two-part batch build on the GPU: the options written last, read on the device, equal the CPU's") {
  Dataset d = random_dataset(150, 3, 32, 32, true, 41);
  DeviceDataset cpu_ds(d, Device::CPU), gpu_ds(d, Device::CUDA);
  std::vector<int32_t> iv(64);
  for (size_t k = 0; k < iv.size(); ++k) iv[k] = static_cast<int32_t>((k * 37) % 150);
  const Tensor idx = Tensor::from_vector(iv, {64}), dev_idx = idx.to(Device::CUDA);
  Tensor im = Tensor::empty({64, 3, 32, 32}, DType::F32, Device::CUDA), lab = Tensor::empty({64}, DType::I32, Device::CUDA);
  for (int ra : {0, 2}) {
    CAPTURE(ra);
    BatchOptions first{5, 3, true, ra, 4}, last{5, 4, true, ra, 4};
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    gpu_ds.set_batch_options(first);
    gpu_ds.set_batch_options(last);
    gpu_ds.build_batch(dev_idx, im, lab);
    const Batch want = cpu_ds.batch(idx, last);
    const Tensor him = im.to(Device::CPU), hlab = lab.to(Device::CPU);
    CHECK(std::memcmp(him.raw(), want.images.raw(), want.images.bytes()) == 0);
    CHECK(std::memcmp(hlab.raw(), want.labels.raw(), want.labels.bytes()) == 0);
  }
}

}  // TEST_SUITE
