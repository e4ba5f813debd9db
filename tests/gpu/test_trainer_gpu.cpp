// GPU twins of the samplers' kernels, and a short budgeted run on the GPU.
#include <cmath>
#include <filesystem>

#include "train/config.h"
#include "train/trainer.h"
#include "kernels/cpu/sampling.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/sampling.h"
#include "data/fashion_mnist.h"
#include "tests/common/helpers.h"
#include "tests/common/steady_state_cases.h"
#include "tests/common/strategy_cases.h"

using namespace bts;

TEST_SUITE("trainer_gpu") {

TEST_CASE("random_order on the GPU equals the CPU twin (same seed and epoch), sizes with and without remainder") {
  for (int64_t n : {1, 1000, 60000, 73257}) {
    std::vector<int32_t> cpu(static_cast<size_t>(n));
    kernels::cpu::random_order(77, 3, n, cpu.data());
    const size_t scratch_bytes = kernels::cuda::epoch_draw_scratch_bytes(n);
    Tensor scratch = Tensor::empty({static_cast<int64_t>(scratch_bytes)}, DType::U8, Device::CUDA);
    Tensor order = Tensor::empty({n}, DType::I32, Device::CUDA);
    kernels::cuda::random_order(kernels::cuda::current_context().stream(), 77, 3, n, order.data<int32_t>(),
                                scratch.raw(), scratch_bytes);
    std::vector<double> gpu = order.to_double_vector();
    bool same = true;
    for (int64_t i = 0; i < n; ++i) same = same && gpu[static_cast<size_t>(i)] == cpu[static_cast<size_t>(i)];
    CHECK_MESSAGE(same, "n = " << n);
  }
}

TEST_CASE("presentation counts and batch statistics on the GPU equal the CPU twins") {
  Rng rng(5);
  const int64_t N = 128, K = 100, n = 1000;
  std::vector<int32_t> idx(N), labels(N);
  for (auto& v : idx) v = static_cast<int32_t>(rng.below(n));
  for (auto& v : labels) v = static_cast<int32_t>(rng.below(K));
  Tensor logits = bts::test::random_tensor({N, K}, DType::F32, rng);
  Tensor loss = bts::test::random_tensor({N}, DType::F32, rng);
  std::vector<int32_t> counts_cpu(n, 0);
  kernels::cpu::add_counts(idx.data(), N, counts_cpu.data());
  double stats_cpu[2] = {0, 0};
  kernels::cpu::accumulate_batch_stats(logits.data<float>(), loss.data<float>(), labels.data(), N, K, 1, stats_cpu);

  Tensor idx_d = Tensor::from_vector<int32_t>(idx, {N}).to(Device::CUDA);
  Tensor labels_d = Tensor::from_vector<int32_t>(labels, {N}).to(Device::CUDA);
  Tensor counts_d = Tensor::zeros({n}, DType::I32, Device::CUDA);
  Tensor stats_d = Tensor::zeros({2}, DType::F64, Device::CUDA);
  Tensor logits_d = logits.to(Device::CUDA), loss_d = loss.to(Device::CUDA);
  cudaStream_t s = kernels::cuda::current_context().stream();
  kernels::cuda::add_counts(s, idx_d.data<int32_t>(), N, counts_d.data<int32_t>());
  kernels::cuda::accumulate_batch_stats(s, logits_d.data<float>(), loss_d.data<float>(), labels_d.data<int32_t>(), N,
                                        K, 1, stats_d.data<double>());
  // Masked by backward weights (OSGD's top-q): a second pass counting only weight > 0.
  std::vector<float> wts(N);
  for (auto& w : wts) w = rng.below(2) ? 0.25f : 0.0f;
  kernels::cpu::add_counts(idx.data(), N, counts_cpu.data(), wts.data());
  Tensor wts_d = Tensor::from_vector<float>(wts, {N}).to(Device::CUDA);
  kernels::cuda::add_counts(s, idx_d.data<int32_t>(), N, counts_d.data<int32_t>(), wts_d.data<float>());
  std::vector<double> counts_gpu = counts_d.to_double_vector();
  for (int64_t i = 0; i < n; ++i) CHECK(counts_gpu[static_cast<size_t>(i)] == counts_cpu[static_cast<size_t>(i)]);
  std::vector<double> st = stats_d.to_double_vector();
  CHECK(st[0] == doctest::Approx(stats_cpu[0]).epsilon(1e-12));
  CHECK(st[1] == stats_cpu[1]);
}

TEST_CASE("a short budgeted run on the GPU: counters as planned, learning happens, resume is bitwise") {
  namespace fs = std::filesystem;
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST (Debian dataset-fashion-mnist) is not on this machine");
    return;
  }
  nlohmann::json j = {{"dataset", "fashion-mnist"}, {"method", "unif-sgd"}, {"budget", 0.3}, {"epochs", 3},
                      {"model", {{"width", 0.25}}}, {"device", "cuda"}, {"run_dir", "bts_gpu_run_a"}};
  fs::remove_all("bts_gpu_run_a");
  fs::remove_all("bts_gpu_run_b");
  const nlohmann::json ra = train(config_from_json(j), TrainOptions{false, true, 0});
  CHECK(ra["budget_spent"]["iterations"] == 3 * 140);
  CHECK(ra["final_test_accuracy"].get<double>() > 0.7);
  j["run_dir"] = "bts_gpu_run_b";
  CHECK(train(config_from_json(j), TrainOptions{false, true, 200})["status"] == "interrupted");
  const nlohmann::json rb = train(config_from_json(j), TrainOptions{true, true, 0});
  for (size_t e = 0; e < 3; ++e)
    CHECK(rb["history"][e]["train_loss"].get<double>() == ra["history"][e]["train_loss"].get<double>());
  CHECK(rb["final_test_accuracy"].get<double>() == ra["final_test_accuracy"].get<double>());
  fs::remove_all("bts_gpu_run_a");
  fs::remove_all("bts_gpu_run_b");
}

// The cases and their expected counters (from the budget rules, proved on the CPU by cpu.strategy_budgets) are
// tests/common/strategy_cases.h: nothing is retrained on the CPU here, and Fashion-MNIST is read once.
TEST_CASE("every strategy and batch augmentation runs on the GPU and spends the budget its rule gives") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST (Debian dataset-fashion-mnist, or $BTS_FASHION_MNIST_DIR) is not on this machine");
    return;
  }
  const DataSplit data = load_fashion_mnist("");
  bts::test::run_strategy_cases("cuda", data);
}

// The CPU suite proves the engine and trainer make no wait or allocation in a warmed-up step; here the CUDA
// backend's own (scratch growth, count reads, host copies that wait) are under the guard too.
TEST_CASE("steady state on the GPU: every method's warmed-up steps neither allocate nor wait; SB's reads are named") {
  if (!have_fashion_mnist()) {
    MESSAGE("SKIPPED: Fashion-MNIST (Debian dataset-fashion-mnist, or $BTS_FASHION_MNIST_DIR) is not on this machine");
    return;
  }
  const DataSplit data = load_fashion_mnist("");
  bts::test::run_steady_state_cases("cuda", data);
}

}  // TEST_SUITE
