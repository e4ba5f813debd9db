// The fused GPU batch builder against its CPU twin: same data, indices, seed and step must give bit-identical
// images and labels (outputs poisoned with NaN first, so an unwritten element fails), with augmentation on and
// off, flips on and off, 1 and 3 channels, host and device indices, on a stream; plus the out-of-range index
// contract and Fashion-MNIST when installed.
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/device_dataset.h"
#include "data/fashion_mnist.h"
#include "data/file_io.h"
#include "engine/rng.h"
#include "kernels/cuda/context.h"
#include "tests/common/random_dataset.h"

using namespace bts;
using bts::test::random_dataset;

namespace {

Tensor random_indices(int64_t b, int64_t n, uint64_t seed) {
  Rng rng(seed, 4);
  std::vector<int32_t> v(static_cast<size_t>(b));
  for (auto& x : v) x = static_cast<int32_t>(rng.below(static_cast<uint64_t>(n)));
  return Tensor::from_vector(v, {b});
}

// Bitwise comparison of a GPU result with the CPU one; counts mismatches.
int64_t mismatches(const Tensor& gpu, const Tensor& cpu) {
  Tensor g = gpu.to(Device::CPU);
  REQUIRE(g.bytes() == cpu.bytes());
  int64_t bad = 0;
  const size_t elem = dtype_size(cpu.dtype());
  for (int64_t i = 0; i < cpu.numel(); ++i)
    bad += std::memcmp(static_cast<const char*>(g.raw()) + i * elem, static_cast<const char*>(cpu.raw()) + i * elem,
                       elem) != 0;
  return bad;
}

// layout: the batches' (NCHW, or NHWC as the GPU's bf16 and channels-last steps take them).
void compare_twins(const Dataset& d, int64_t b, uint64_t seed, uint64_t steps, int pad, Layout layout = Layout::NCHW) {
  DeviceDataset cpu(d, Device::CPU, pad), gpu(d, Device::CUDA, pad);
  REQUIRE(gpu.images().device() == Device::CUDA);
  for (uint64_t step = 0; step < steps; ++step) {
    for (bool augment : {true, false}) {
      CAPTURE(step);
      CAPTURE(augment);
      Tensor idx = random_indices(b, d.size(), seed * 1000 + step);
      const BatchOptions opt{seed, step, augment};
      Batch want = cpu.batch(idx, opt, layout);
      Tensor im = Tensor::empty(want.images.shape(), DType::F32, Device::CUDA, layout);
      Tensor lab = Tensor::empty({b}, DType::I32, Device::CUDA);
      im.fill(NAN);
      lab.fill(-7);
      Tensor dev_idx = idx.to(Device::CUDA);
      gpu.make_batch(dev_idx, opt, im, lab);
      CHECK(mismatches(im, want.images) == 0);
      CHECK(mismatches(lab, want.labels) == 0);
      // Host indices take the copying path and must give the same bits.
      im.fill(NAN);
      gpu.make_batch(idx, opt, im, lab);
      CHECK(mismatches(im, want.images) == 0);
    }
  }
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("GPU batch == CPU twin, bit for bit: CIFAR-like 3x32x32, flips on, pad 4") {
  compare_twins(random_dataset(1000, 3, 32, 32, true, 1), 128, 11, 6, 4);
}

TEST_CASE("GPU batch == CPU twin: SVHN-like (no flips), grey 28x28, mini-ImageNet-like 84x84, odd sizes") {
  compare_twins(random_dataset(300, 3, 32, 32, false, 2), 64, 12, 3, 4);
  compare_twins(random_dataset(300, 1, 28, 28, true, 3), 100, 13, 3, 4);
  compare_twins(random_dataset(40, 3, 84, 84, true, 4), 16, 14, 2, 4);
  compare_twins(random_dataset(7, 2, 5, 3, true, 5), 9, 15, 4, 2);
  compare_twins(random_dataset(7, 3, 32, 32, true, 6), 1, 16, 2, 0);
}

TEST_CASE("GPU batch == CPU twin written NHWC (channels last): CIFAR-like, mini-ImageNet-like, odd sizes") {
  compare_twins(random_dataset(1000, 3, 32, 32, true, 1), 128, 17, 3, 4, Layout::NHWC);
  compare_twins(random_dataset(40, 3, 84, 84, true, 4), 16, 18, 2, 4, Layout::NHWC);
  compare_twins(random_dataset(7, 2, 5, 3, true, 5), 9, 19, 3, 2, Layout::NHWC);
}

TEST_CASE("GPU batches are reproducible and differ between steps; the current context's stream is honoured") {
  Dataset d = random_dataset(500, 3, 32, 32, true, 7);
  DeviceDataset gpu(d, Device::CUDA);
  Tensor idx = random_indices(128, 500, 8).to(Device::CUDA);
  // A context of the test's own (its own stream): the backend queues the batch kernels on the current context.
  kernels::cuda::Context ctx;
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  kernels::cuda::set_current_context(&ctx);
  Batch a = gpu.batch(idx, {5, 10, true});
  Batch b = gpu.batch(idx, {5, 10, true});
  Batch c = gpu.batch(idx, {5, 11, true});
  ctx.synchronize();
  kernels::cuda::set_current_context(nullptr);
  Tensor ha = a.images.to(Device::CPU), hb = b.images.to(Device::CPU), hc = c.images.to(Device::CPU);
  CHECK(std::memcmp(ha.raw(), hb.raw(), ha.bytes()) == 0);
  CHECK(std::memcmp(ha.raw(), hc.raw(), ha.bytes()) != 0);
}

TEST_CASE("an out-of-range index on the GPU poisons its sample (NaN, label -1) instead of reading stray memory") {
  Dataset d = random_dataset(10, 3, 8, 8, true, 9);
  DeviceDataset gpu(d, Device::CUDA);
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{3, 10, -1, 9}, {4}).to(Device::CUDA);
  Batch b = gpu.batch(idx, {0, 0, true});
  Tensor im = b.images.to(Device::CPU), lab = b.labels.to(Device::CPU);
  const float* p = im.data<float>();
  for (int slot = 0; slot < 4; ++slot) {
    const bool bad = slot == 1 || slot == 2;
    int64_t nan = 0;
    for (int e = 0; e < 192; ++e) nan += std::isnan(p[slot * 192 + e]);
    CHECK(nan == (bad ? 192 : 0));
    CHECK((lab.data<int32_t>()[slot] == -1) == bad);
  }
}

TEST_CASE("Fashion-MNIST on the GPU: uploaded once, batches equal the CPU twin's") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  DataSplit s = load_dataset("fashion-mnist", "");
  compare_twins(s.train, 128, 21, 3, 4);
  DeviceDataset test_gpu(s.test, Device::CUDA), test_cpu(s.test, Device::CPU);
  Tensor idx = index_range(9872, 128, Device::CUDA);
  CHECK(mismatches(test_gpu.batch(idx, {0, 0, false}).images,
                   test_cpu.batch(index_range(9872, 128, Device::CPU), {0, 0, false}).images) == 0);
}

}  // TEST_SUITE
