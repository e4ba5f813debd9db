// p-SGD/c-SGD GPU twins: statistics updates, weights and weighted draws agree with the CPU.
#include "kernels/cpu/importance.h"
#include "kernels/cpu/sampling.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/importance.h"
#include "kernels/cuda/sampling.h"
#include "tests/common/helpers.h"

using namespace bts;
using kernels::ImportanceKind;

TEST_SUITE("importance_gpu") {

TEST_CASE("update, weights (every variant) and draws on the GPU equal the CPU twins") {
  const int64_t n = 50000, b = 128, M = 2;
  Rng rng(31);
  std::vector<double> sum_p(n, 0);
  std::vector<int32_t> visits(n, 0);
  std::vector<float> last_p(n, 0);
  Tensor sum_d = Tensor::zeros({n}, DType::F64, Device::CUDA), visits_d = Tensor::zeros({n}, DType::I32, Device::CUDA);
  Tensor last_d = Tensor::zeros({n}, DType::F32, Device::CUDA);
  cudaStream_t s = kernels::cuda::current_context().stream();
  std::vector<int32_t> order_host(n);
  kernels::cpu::random_order(1, 0, n, order_host.data());  // distinct indices per batch, as the samplers give
  for (int64_t step = 0; step < 100; ++step) {
    std::vector<int32_t> idx(order_host.begin() + step * b, order_host.begin() + (step + 1) * b);
    std::vector<float> prob(b * M), lw(b * M);
    for (auto& p : prob) p = static_cast<float>(rng.uniform());
    // Mixup-shaped targets: column 0 the slot itself with weight lambda, column 1 a permuted partner.
    std::vector<int32_t> perm(b), src(b * M);
    kernels::cpu::random_order(9, static_cast<uint64_t>(step), b, perm.data());
    const float lambda = static_cast<float>(rng.uniform());
    for (int64_t j = 0; j < b; ++j) {
      src[j * M] = static_cast<int32_t>(j);
      src[j * M + 1] = perm[j];
      lw[j * M] = lambda;
      lw[j * M + 1] = 1.0f - lambda;
    }
    kernels::cpu::update_importance_stats(idx.data(), prob.data(), lw.data(), src.data(), b, M, sum_p.data(),
                                          visits.data(), last_p.data());
    Tensor idx_d = Tensor::from_vector<int32_t>(idx, {b}).to(Device::CUDA);
    Tensor prob_d = Tensor::from_vector<float>(prob, {b, M}).to(Device::CUDA);
    Tensor lw_d = Tensor::from_vector<float>(lw, {b, M}).to(Device::CUDA);
    Tensor src_d = Tensor::from_vector<int32_t>(src, {b, M}).to(Device::CUDA);
    kernels::cuda::update_importance_stats(s, idx_d.data<int32_t>(), prob_d.data<float>(), lw_d.data<float>(),
                                           src_d.data<int32_t>(), b, M, sum_d.data<double>(),
                                           visits_d.data<int32_t>(), last_d.data<float>());
  }
  CHECK(sum_d.to_double_vector() == std::vector<double>(sum_p.begin(), sum_p.end()));
  // The epoch draws' scratch (reductions, keys, CUB's sort storage): the backend's, here the test's own.
  const size_t scratch_bytes = kernels::cuda::epoch_draw_scratch_bytes(n);
  Tensor scratch = Tensor::empty({static_cast<int64_t>(scratch_bytes)}, DType::U8, Device::CUDA);
  for (ImportanceKind kind : {ImportanceKind::Loss, ImportanceKind::Confidence})
    for (bool averaging : {true, false})
      for (bool eps : {true, false}) {
        std::vector<double> w(n);
        kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), kind, averaging, eps, w.data());
        Tensor w_d = Tensor::empty({n}, DType::F64, Device::CUDA);
        kernels::cuda::importance_weights(s, n, sum_d.data<double>(), visits_d.data<int32_t>(), last_d.data<float>(),
                                          kind, averaging, eps, w_d.data<double>(), scratch.raw(), scratch_bytes);
        CHECK(bts::test::rel_error(w_d.to_double_vector(), w) < 1e-12);
      }
  {  // nothing seen yet: every weight 1, with or without eps (the CPU adds nothing then either)
    Tensor zero_visits = Tensor::zeros({n}, DType::I32, Device::CUDA);
    Tensor w_d = Tensor::empty({n}, DType::F64, Device::CUDA);
    kernels::cuda::importance_weights(s, n, sum_d.data<double>(), zero_visits.data<int32_t>(), last_d.data<float>(),
                                      ImportanceKind::Loss, true, true, w_d.data<double>(), scratch.raw(),
                                      scratch_bytes);
    CHECK(w_d.to_double_vector() == std::vector<double>(static_cast<size_t>(n), 1.0));
  }
  // Draws from identical weights: identical orders (the keys themselves may differ in the last bit: device log).
  std::vector<double> w(n);
  kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, true, true,
                                   w.data());
  std::vector<int32_t> order_cpu(n);
  kernels::cpu::weighted_order(9, 4, n, w.data(), order_cpu.data());
  Tensor w_d = Tensor::from_vector<double>(w, {n}).to(Device::CUDA);
  Tensor order_d = Tensor::empty({n}, DType::I32, Device::CUDA);
  kernels::cuda::weighted_order(s, 9, 4, n, w_d.data<double>(), order_d.data<int32_t>(), scratch.raw(), scratch_bytes);
  std::vector<double> og = order_d.to_double_vector();
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n; ++i) mismatches += og[static_cast<size_t>(i)] != order_cpu[static_cast<size_t>(i)];
  CHECK(mismatches == 0);
}

TEST_CASE("OSGD top-q weights on the GPU equal the CPU twin") {
  Rng rng(4);
  for (int64_t q : {128, 64, 8, 1}) {
    std::vector<float> loss(128);
    for (auto& l : loss) l = static_cast<float>(rng.uniform());
    loss[5] = loss[9];  // a tie
    std::vector<float> w(128);
    kernels::cpu::top_q_weights(loss.data(), 128, q, w.data());
    Tensor loss_d = Tensor::from_vector<float>(loss, {128}).to(Device::CUDA);
    Tensor w_d = Tensor::empty({128}, DType::F32, Device::CUDA);
    kernels::cuda::top_q_weights(kernels::cuda::current_context().stream(), loss_d.data<float>(), 128, q,
                                 w_d.data<float>());
    CHECK(w_d.to_double_vector() == std::vector<double>(w.begin(), w.end()));
  }
}

}  // TEST_SUITE
