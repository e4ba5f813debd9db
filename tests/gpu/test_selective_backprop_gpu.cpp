// Selective backprop and forgetting-event GPU twins: the same history, decisions, queue contents and
// forgetting counts as the CPU on the same inputs and draws.
#include "train/strategies/selective_backprop.h"
#include "kernels/cpu/forgetting.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/forgetting.h"
#include "kernels/cpu/sampling.h"
#include "kernels/common/selective_backprop.h"
#include "kernels/cpu/selective_backprop.h"
#include "kernels/cuda/selective_backprop.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("selective_backprop_gpu") {

TEST_CASE("SelectiveBackprop on the GPU keeps the same samples in the same order as on the CPU") {
  const int64_t b = 128;
  const Shape image{3, 5, 7};
  // M = 1: plain labels; M = 4: RICAP-shaped soft targets, whose labels and label weights ride in the queue too.
  for (int64_t M : {int64_t{1}, int64_t{4}}) {
    for (double beta : {0.0, 1.0, 7.0 / 3.0}) {
      INFO("M " << M << ", beta " << beta);
      SelectiveBackpropOptions o{beta, 1024, 1, 77};
      o.targets = M;
      SelectiveBackprop cpu(o, b, image, Device::CPU);
      SelectiveBackprop gpu(o, b, image, Device::CUDA);
      Rng rng(5);
      int64_t total = 0;
      for (int64_t step = 0; step < 40; ++step) {  // 40 x 128 > R: the ring wraps
        Tensor loss = bts::test::random_tensor({b}, DType::F32, rng);
        Tensor images = bts::test::random_tensor({b, 3, 5, 7}, DType::F32, rng);
        Tensor weights = bts::test::random_tensor({b, M}, DType::F32, rng);
        std::vector<int32_t> lab(b * M), idx(b);
        for (auto& l : lab) l = static_cast<int32_t>(rng.below(10));
        for (int64_t j = 0; j < b; ++j) idx[j] = static_cast<int32_t>(step * b + j);
        Tensor labels = Tensor::from_vector<int32_t>(lab, {b * M}), indices = Tensor::from_vector<int32_t>(idx, {b});
        const Tensor w_cpu = M > 1 ? weights.view() : Tensor();
        const Tensor w_gpu = M > 1 ? weights.to(Device::CUDA) : Tensor();
        const int64_t epoch = step < 3 ? 0 : 1;  // the first 3 batches are primed
        const int64_t kc = cpu.select(epoch, step, loss, images, labels, indices, w_cpu);
        const int64_t kg = gpu.select(epoch, step, loss.to(Device::CUDA), images.to(Device::CUDA),
                                      labels.to(Device::CUDA), indices.to(Device::CUDA), w_gpu);
        REQUIRE(kc == kg);
        total += kc;
        CHECK(gpu.images(gpu.queued()).to_double_vector() == cpu.images(cpu.queued()).to_double_vector());
        CHECK(gpu.labels(gpu.queued()).to_double_vector() == cpu.labels(cpu.queued()).to_double_vector());
        CHECK(gpu.indices(gpu.queued()).to_double_vector() == cpu.indices(cpu.queued()).to_double_vector());
        if (M > 1)
          CHECK(gpu.label_weights(gpu.queued()).to_double_vector() ==
                cpu.label_weights(cpu.queued()).to_double_vector());
        const int64_t k = cpu.queued() >= b ? b : 0;
        cpu.pop(k);
        gpu.pop(k);
        CHECK(gpu.queued() == cpu.queued());
        if (M > 1 && gpu.queued() > 0)  // what pop moved to the front
          CHECK(gpu.label_weights(gpu.queued()).to_double_vector() ==
                cpu.label_weights(cpu.queued()).to_double_vector());
      }
      CHECK(gpu.history() == cpu.history());
      CHECK(total > 0);
    }
  }
}

TEST_CASE("forgetting counts on the GPU equal the CPU twin") {
  const int64_t n = 1000, b = 100, K = 10;
  Rng rng(8);
  std::vector<int32_t> last(n, 0), ever(n, 0), forgets(n, 0);
  Tensor last_d = Tensor::zeros({n}, DType::I32, Device::CUDA), ever_d = Tensor::zeros({n}, DType::I32, Device::CUDA);
  Tensor forgets_d = Tensor::zeros({n}, DType::I32, Device::CUDA);
  std::vector<int32_t> order(n);
  for (int64_t step = 0; step < 50; ++step) {
    kernels::cpu::random_order(3, static_cast<uint64_t>(step), n, order.data());
    std::vector<int32_t> idx(order.begin(), order.begin() + b), lab(b);
    for (auto& l : lab) l = static_cast<int32_t>(rng.below(K));
    Tensor logits = bts::test::random_tensor({b, K}, DType::F32, rng);
    kernels::cpu::update_forgetting(logits.data<float>(), lab.data(), idx.data(), b, K, last.data(), ever.data(),
                                    forgets.data());
    Tensor logits_d = logits.to(Device::CUDA);
    Tensor lab_d = Tensor::from_vector<int32_t>(lab, {b}).to(Device::CUDA);
    Tensor idx_d = Tensor::from_vector<int32_t>(idx, {b}).to(Device::CUDA);
    kernels::cuda::update_forgetting(kernels::cuda::current_context().stream(), logits_d.data<float>(),
                                     lab_d.data<int32_t>(), idx_d.data<int32_t>(), b, K, last_d.data<int32_t>(),
                                     ever_d.data<int32_t>(), forgets_d.data<int32_t>());
  }
  CHECK(forgets_d.to_double_vector() == std::vector<double>(forgets.begin(), forgets.end()));
  CHECK(ever_d.to_double_vector() == std::vector<double>(ever.begin(), ever.end()));
  CHECK(last_d.to_double_vector() == std::vector<double>(last.begin(), last.end()));
  int64_t events = 0;
  for (int32_t f : forgets) events += f;
  CHECK(events > 0);
}

TEST_CASE("staleness split and scatter on the GPU equal the CPU twins") {
  const int64_t n = 5000, b = 128;
  Rng rng(12);
  std::vector<float> cached(n);
  std::vector<int32_t> epochs(n);
  for (int64_t i = 0; i < n; ++i) {
    cached[i] = static_cast<float>(rng.uniform());
    epochs[i] = rng.below(4) == 0 ? kernels::kNeverScored : static_cast<int32_t>(rng.below(10));
  }
  std::vector<int32_t> order(n);
  kernels::cpu::random_order(4, 0, n, order.data());
  std::vector<int32_t> idx(order.begin(), order.begin() + b);
  std::vector<float> loss(b, -1.0f);
  std::vector<int32_t> need(b, -1);
  const int64_t count = kernels::cpu::sb_split_stale(idx.data(), b, cached.data(), epochs.data(), 9, 3, loss.data(),
                                                     need.data());
  Tensor idx_d = Tensor::from_vector<int32_t>(idx, {b}).to(Device::CUDA);
  Tensor cached_d = Tensor::from_vector<float>(cached, {n}).to(Device::CUDA);
  Tensor epochs_d = Tensor::from_vector<int32_t>(epochs, {n}).to(Device::CUDA);
  Tensor loss_d = Tensor::from_vector<float>(std::vector<float>(b, -1.0f), {b}).to(Device::CUDA);
  Tensor need_d = Tensor::zeros({b}, DType::I32, Device::CUDA), count_d = Tensor::zeros({1}, DType::I32, Device::CUDA);
  cudaStream_t s = kernels::cuda::current_context().stream();
  kernels::cuda::sb_split_stale(s, idx_d.data<int32_t>(), b, cached_d.data<float>(), epochs_d.data<int32_t>(), 9, 3,
                                loss_d.data<float>(), need_d.data<int32_t>(), count_d.data<int32_t>());
  REQUIRE(count_d.to_double_vector()[0] == count);
  REQUIRE(count > 0);
  REQUIRE(count < b);
  std::vector<double> need_gpu = need_d.to_double_vector();
  for (int64_t t = 0; t < count; ++t) CHECK(need_gpu[t] == need[t]);
  std::vector<float> scored(count);
  for (auto& v : scored) v = static_cast<float>(rng.uniform());
  kernels::cpu::sb_scatter_scores(idx.data(), need.data(), count, scored.data(), 9, loss.data(), cached.data(),
                                  epochs.data());
  Tensor scored_d = Tensor::from_vector<float>(scored, {count}).to(Device::CUDA);
  kernels::cuda::sb_scatter_scores(s, idx_d.data<int32_t>(), need_d.data<int32_t>(), count, scored_d.data<float>(), 9,
                                   loss_d.data<float>(), cached_d.data<float>(), epochs_d.data<int32_t>());
  CHECK(loss_d.to_double_vector() == std::vector<double>(loss.begin(), loss.end()));
  CHECK(cached_d.to_double_vector() == std::vector<double>(cached.begin(), cached.end()));
  CHECK(epochs_d.to_double_vector() == std::vector<double>(epochs.begin(), epochs.end()));
}

}  // TEST_SUITE
