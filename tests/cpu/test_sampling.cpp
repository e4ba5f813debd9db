// The SGD-family samplers' budget accounting and their random orders.
#include <algorithm>
#include <set>

#include "train/strategies/sampler.h"
#include "kernels/cpu/sampling.h"
#include "tests/common/helpers.h"

using namespace bts;

TEST_SUITE("sampling") {

TEST_CASE("random_order is a permutation, reproducible per (seed, epoch), different across epochs") {
  const int64_t n = 1000;
  std::vector<int32_t> a(n), b(n), c(n);
  kernels::cpu::random_order(3, 0, n, a.data());
  kernels::cpu::random_order(3, 0, n, b.data());
  kernels::cpu::random_order(3, 1, n, c.data());
  CHECK(a == b);
  CHECK(a != c);
  std::vector<int32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; ++i) CHECK(sorted[i] == i);
}

TEST_CASE("random_order: every sample equally likely in the first slots (uniform without replacement)") {
  // Over 2000 epochs, how often each of 20 samples lands in the first 6 positions: expected 600 each.
  const int64_t n = 20, k = 6, epochs = 2000;
  std::vector<int> hits(n, 0);
  std::vector<int32_t> order(n);
  for (int64_t e = 0; e < epochs; ++e) {
    kernels::cpu::random_order(9, static_cast<uint64_t>(e), n, order.data());
    for (int64_t j = 0; j < k; ++j) ++hits[order[j]];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(epochs * k) / n;
  for (int h : hits) chi2 += (h - expected) * (h - expected) / expected;
  // 19 degrees of freedom: P(chi2 > 43.8) = 0.001.
  CHECK(chi2 < 43.8);
}

TEST_CASE("unif-sgd: T epochs of floor(N*B/128) iterations, no repeats inside an epoch") {
  SamplerContext c{60000, 128, 200, 0.3, 1, Device::CPU};
  auto s = make_sampler("unif-sgd", c);
  CHECK(s->epochs() == 200);
  CHECK(s->iterations_per_epoch() == 140);  // floor(18000 / 128)
  CHECK(s->iterations_per_epoch() * 128 == 17920);  // samples per epoch = floor(N*B/128)*128
  Tensor order = Tensor::empty({60000}, DType::I32);
  s->begin_epoch(0, order);
  std::set<int32_t> seen(order.data<int32_t>(), order.data<int32_t>() + 17920);
  CHECK(seen.size() == 17920);
  std::vector<int32_t> first(order.data<int32_t>(), order.data<int32_t>() + 17920);
  s->begin_epoch(1, order);
  CHECK(std::vector<int32_t>(order.data<int32_t>(), order.data<int32_t>() + 17920) != first);
}

TEST_CASE("scan-sgd: round(T*B) epochs over all samples; sgd: T full epochs, budget 1 only") {
  SamplerContext c{50000, 128, 200, 0.3, 1, Device::CPU};
  auto scan = make_sampler("scan-sgd", c);
  CHECK(scan->epochs() == 60);
  CHECK(scan->iterations_per_epoch() == 390);  // floor(50000 / 128): the last partial batch is dropped
  c.budget = 0.25;
  CHECK(make_sampler("scan-sgd", SamplerContext{50000, 128, 10, 0.25, 1, Device::CPU})->epochs() == 3);  // 2.5 -> 3
  CHECK_THROWS_WITH_AS(make_sampler("sgd", c), doctest::Contains("budget 1"), Error);
  c.budget = 1.0;
  auto sgd = make_sampler("sgd", c);
  CHECK(sgd->epochs() == 200);
  CHECK(sgd->iterations_per_epoch() == 390);
  CHECK_THROWS_WITH_AS(make_sampler("p-sgd-typo", c), doctest::Contains("unif-sgd"), Error);
  CHECK_THROWS_WITH_AS(make_sampler("unif-sgd", SamplerContext{100, 128, 10, 0.5, 1, Device::CPU}),
                       doctest::Contains("raise the budget"), Error);
}

TEST_CASE("random-subset: one fixed subset of N*B samples, every epoch drawn from it, reshuffled") {
  SamplerContext c{1000, 10, 50, 0.2, 3, Device::CPU};
  auto s = make_sampler("random-subset", c);
  CHECK(s->epochs() == 50);
  CHECK(s->iterations_per_epoch() == 20);
  Tensor order = Tensor::empty({1000}, DType::I32);
  s->begin_epoch(0, order);
  std::vector<int32_t> e0(order.data<int32_t>(), order.data<int32_t>() + 200);
  s->begin_epoch(7, order);
  std::vector<int32_t> e7(order.data<int32_t>(), order.data<int32_t>() + 200);
  CHECK(e0 != e7);  // reshuffled
  CHECK(std::set<int32_t>(e0.begin(), e0.end()) == std::set<int32_t>(e7.begin(), e7.end()));  // same subset
  CHECK(std::set<int32_t>(e0.begin(), e0.end()).size() == 200);
  auto other = make_sampler("random-subset", SamplerContext{1000, 10, 50, 0.2, 4, Device::CPU});
  other->begin_epoch(0, order);
  CHECK(std::set<int32_t>(order.data<int32_t>(), order.data<int32_t>() + 200) != std::set<int32_t>(e0.begin(), e0.end()));
}

TEST_CASE("presentation counts and batch statistics (CPU twins of the GPU kernels)") {
  std::vector<int32_t> counts(5, 0);
  const int32_t idx[] = {1, 3, 3, 0};
  kernels::cpu::add_counts(idx, 4, counts.data());
  CHECK(counts == std::vector<int32_t>{1, 1, 0, 2, 0});
  const float weights[] = {0.5f, 0.0f, 0.5f, 0.0f};  // OSGD: only the top-q (weight > 0) went backward
  kernels::cpu::add_counts(idx, 4, counts.data(), weights);
  CHECK(counts == std::vector<int32_t>{1, 2, 0, 3, 0});
  const float logits[] = {0.1f, 2.0f, -1.0f, /**/ 3.0f, 0.0f, 3.0f, /**/ 0.0f, 0.0f, 1.0f};
  const float loss[] = {0.5f, 1.0f, 2.0f};
  const int32_t labels[] = {1, 0, 2};  // correct, correct (tie goes to the lowest class), correct
  double stats[2] = {0, 0};
  kernels::cpu::accumulate_batch_stats(logits, loss, labels, 3, 3, 1, stats);
  CHECK(stats[0] == doctest::Approx(3.5));
  CHECK(stats[1] == 3.0);
  const int32_t wrong[] = {0, 2, 1};
  kernels::cpu::accumulate_batch_stats(logits, loss, wrong, 3, 3, 1, stats);
  CHECK(stats[1] == 3.0);
}

}  // TEST_SUITE
