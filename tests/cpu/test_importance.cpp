// p-SGD and c-SGD: importance formulas, never-seen samples, eps, draws without replacement proportional to the
// weights (chi-square at a fixed seed), and the sampler's budget accounting.
#include <algorithm>
#include <cmath>
#include <set>

#include "engine/ops.h"
#include "train/strategies/sampler.h"
#include "kernels/cpu/importance.h"
#include "tests/common/helpers.h"

using namespace bts;
using kernels::ImportanceKind;

TEST_SUITE("importance") {

TEST_CASE("running statistics, importance formulas, never-seen at maximum, eps = mean importance") {
  const int64_t n = 4;
  std::vector<double> sum_p(n, 0), w(n);
  std::vector<int32_t> visits(n, 0);
  std::vector<float> last_p(n, 0);
  // Nothing seen yet: uniform.
  CHECK(kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, true,
                                         true, w.data()) == 0);
  CHECK(w == std::vector<double>(n, 1.0));
  const int32_t idx1[] = {0, 1};
  const float p1[] = {0.2f, 0.9f};
  kernels::cpu::update_importance_stats(idx1, p1, nullptr, nullptr, 2, 1, sum_p.data(), visits.data(), last_p.data());
  const int32_t idx2[] = {0};
  const float p2[] = {0.6f};
  kernels::cpu::update_importance_stats(idx2, p2, nullptr, nullptr, 1, 1, sum_p.data(), visits.data(), last_p.data());
  // Sample 0: mean p = 0.4 (last 0.6); sample 1: 0.9; samples 2, 3 never seen.
  CHECK(kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, true,
                                         false, w.data()) == 2);
  CHECK(w[0] == doctest::Approx(0.6));
  CHECK(w[1] == doctest::Approx(0.1));
  CHECK(w[2] == doctest::Approx(0.6));  // never seen: the maximum importance
  CHECK(w[3] == doctest::Approx(0.6));
  kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, true, true,
                                   w.data());
  const double eps = (0.6 + 0.1 + 0.6 + 0.6) / 4;
  CHECK(w[1] == doctest::Approx(0.1 + eps));
  kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, false, false,
                                   w.data());
  CHECK(w[0] == doctest::Approx(0.4));  // last value only: 1 - 0.6
  kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Confidence, true,
                                   false, w.data());
  CHECK(w[0] == doctest::Approx(0.4 * 0.6));  // c-SGD: p (1 - p)
  CHECK(w[1] == doctest::Approx(0.9 * 0.1));
  CHECK(w[2] == doctest::Approx(0.24));
}

TEST_CASE("weighted draws: a permutation; first draws follow the weights (chi-square); zero weights come last") {
  const int64_t n = 10;
  std::vector<double> w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const double total = 55;
  std::vector<int> first(n, 0);
  std::vector<int32_t> order(n);
  const int trials = 5500;
  for (int e = 0; e < trials; ++e) {
    kernels::cpu::weighted_order(21, static_cast<uint64_t>(e), n, w.data(), order.data());
    ++first[order[0]];
    if (e == 0) {
      std::vector<int32_t> sorted = order;
      std::sort(sorted.begin(), sorted.end());
      for (int64_t i = 0; i < n; ++i) CHECK(sorted[i] == i);
    }
  }
  double chi2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double expected = trials * w[i] / total;
    chi2 += (first[i] - expected) * (first[i] - expected) / expected;
  }
  CHECK(chi2 < 27.9);  // 9 degrees of freedom, P(chi2 > 27.9) = 0.001
  std::vector<double> wz = {0, 1, 0, 1};
  kernels::cpu::weighted_order(3, 0, 4, wz.data(), order.data());
  CHECK(std::set<int32_t>{order[0], order[1]} == std::set<int32_t>{1, 3});
}

TEST_CASE("never-seen samples are drawn first when seen ones have no importance (no eps)") {
  const int64_t n = 100;
  std::vector<double> sum_p(n, 0), w(n);
  std::vector<int32_t> visits(n, 0);
  std::vector<float> last_p(n, 0);
  std::vector<int32_t> seen_idx;
  std::vector<float> ones;
  for (int32_t i = 0; i < n; i += 2) {  // even samples seen with p = 1: importance 0
    seen_idx.push_back(i);
    ones.push_back(1.0f);
  }
  kernels::cpu::update_importance_stats(seen_idx.data(), ones.data(), nullptr, nullptr, static_cast<int64_t>(seen_idx.size()), 1,
                                        sum_p.data(), visits.data(), last_p.data());
  // All seen at importance 0: max over seen is 0, so everyone is 0 -> give one seen sample a little importance.
  sum_p[0] = 0.5;
  kernels::cpu::importance_weights(n, sum_p.data(), visits.data(), last_p.data(), ImportanceKind::Loss, true, false,
                                   w.data());
  std::vector<int32_t> order(n);
  kernels::cpu::weighted_order(8, 1, n, w.data(), order.data());
  // Draws proportional to weight: 50 unseen at 0.5, sample 0 at 0.5, 49 seen at 0 -> the first 51 are exactly those.
  std::set<int32_t> first51(order.begin(), order.begin() + 51);
  for (int32_t i = 1; i < n; i += 2) CHECK(first51.count(i) == 1);
  CHECK(first51.count(0) == 1);
}

TEST_CASE("p-SGD sampler: budget accounting, warm-up, stats update from the training forward, checkpoint state") {
  SamplerContext c{1000, 10, 20, 0.3, 5, Device::CPU, ImportanceOptions{true, true, 2}};
  auto s = make_sampler("p-sgd", c);
  CHECK(s->epochs() == 20);
  CHECK(s->iterations_per_epoch() == 30);
  Tensor order = Tensor::empty({1000}, DType::I32), uniform = Tensor::empty({1000}, DType::I32);
  s->begin_epoch(0, order);  // warm-up: the same order unif-SGD would draw
  make_sampler("unif-sgd", c)->begin_epoch(0, uniform);
  CHECK(order.to_double_vector() == uniform.to_double_vector());
  // One batch seen: indices 0..9 with p = 0.99 (easy): after warm-up they should rarely be drawn early.
  Tensor idx = Tensor::empty({10}, DType::I32), loss = Tensor::zeros({10}, DType::F32);
  Tensor prob = Tensor::empty({10, 1}, DType::F32), sw = Tensor::empty({10}, DType::F32);
  for (int i = 0; i < 10; ++i) idx.data<int32_t>()[i] = i;
  prob.fill(0.99);
  BatchView v{idx, loss, prob, sw};
  s->after_forward(v);
  s->begin_epoch(5, order);
  std::set<int32_t> drawn(order.data<int32_t>(), order.data<int32_t>() + 300);
  int easy = 0;
  for (int i = 0; i < 10; ++i) easy += static_cast<int>(drawn.count(i));
  // Weight of an easy sample: 0.01 + eps vs 1 + eps for the 990 unseen (eps ~ 0.99): 1.0 vs 1.98, so fewer.
  CHECK(easy < 3);  // expected about 10 * 300/1000 * 1.0/1.98 = 1.5
  TensorMap state;
  s->save(state);
  CHECK(state.at("sampler.visits").to_double_vector()[3] == 1.0);
  auto s2 = make_sampler("p-sgd", c);
  s2->load(state);
  Tensor order2 = Tensor::empty({1000}, DType::I32);
  s2->begin_epoch(5, order2);
  CHECK(order2.to_double_vector() == order.to_double_vector());
  CHECK(make_sampler("c-sgd", c)->name() == "c-sgd");
}

TEST_CASE("p-SGD: importance decides which samples an epoch trains, not the order they train in") {
  // N = 4000, b = 10, B = 0.5: 2000 drawn per epoch. Every fourth sample is important (p = 0: importance 1), the
  // others are not (p = 0.9: importance 0.1); no eps. The draw takes nearly all 1000 important samples and about
  // 1000 others. In key order (the draw's sort) the important ones would fill the first half of the epoch.
  const int64_t n = 4000;
  SamplerContext c{n, 10, 10, 0.5, 3, Device::CPU, ImportanceOptions{false, true, 0}};
  auto s = make_sampler("p-sgd", c);
  auto important = [](int32_t i) { return i % 4 == 0; };
  TensorMap state;
  std::vector<double> sum_p(n);
  for (int64_t i = 0; i < n; ++i) sum_p[static_cast<size_t>(i)] = important(static_cast<int32_t>(i)) ? 0.0 : 0.9;
  state.emplace("sampler.sum_p", Tensor::from_vector<double>(sum_p, {n}));
  state.emplace("sampler.visits", Tensor::from_vector<int32_t>(std::vector<int32_t>(n, 1), {n}));
  state.emplace("sampler.last_p", Tensor::from_vector<float>(std::vector<float>(n, 0.5f), {n}));
  s->load(state);
  Tensor order = Tensor::empty({n}, DType::I32);
  s->begin_epoch(4, order);
  const int64_t k = s->iterations_per_epoch() * 10;
  REQUIRE(k == 2000);
  const int32_t* o = order.data<int32_t>();
  // Which: distinct samples, the important ones favoured (10x the weight).
  std::set<int32_t> drawn(o, o + k);
  CHECK(static_cast<int64_t>(drawn.size()) == k);
  int64_t first = 0, second = 0;  // important samples in the first and the second half of the epoch
  for (int64_t j = 0; j < k; ++j) (j < k / 2 ? first : second) += important(o[j]);
  MESSAGE("important samples drawn: " << first + second << " (" << first << " in the first half)");
  CHECK(first + second > 850);
  // Order: both halves hold about the same share of them (sd of the difference of shares ~ 0.022; seen 0.52 vs
  // 0.46). Left in key order they would not: 0.69 vs 0.29 with this seed.
  const double share1 = static_cast<double>(first) / (k / 2), share2 = static_cast<double>(second) / (k / 2);
  CHECK(std::fabs(share1 - share2) < 0.1);
}

TEST_CASE("OSGD: q at each accuracy threshold, and only the top-q samples receive gradient") {
  CHECK(kernels::osgd_q(128, 0.5) == 128);
  CHECK(kernels::osgd_q(128, 0.80) == 64);
  CHECK(kernels::osgd_q(128, 0.85) == 64);
  CHECK(kernels::osgd_q(128, 0.90) == 32);
  CHECK(kernels::osgd_q(128, 0.95) == 16);
  CHECK(kernels::osgd_q(128, 0.994) == 16);
  CHECK(kernels::osgd_q(128, 0.995) == 8);
  CHECK(kernels::osgd_q(8, 1.0) == 1);
  // A batch of 6 with known losses; q = 2 -> the two largest (ties resolved by position) get 1/2.
  const float loss[] = {0.3f, 2.0f, 0.1f, 2.0f, 1.5f, 0.0f};
  float w[6];
  kernels::cpu::top_q_weights(loss, 6, 2, w);
  CHECK(std::vector<float>(w, w + 6) == std::vector<float>{0, 0.5f, 0, 0.5f, 0, 0});
  // Through the loss: rows of the logits' gradient are zero outside the top q.
  Rng rng(2);
  Tensor logits = bts::test::random_tensor({6, 4}, DType::F32, rng);
  Tape t(Device::CPU);
  Var z = t.leaf(logits, true);
  Tensor labels = Tensor::from_vector<int32_t>({0, 1, 2, 3, 0, 1}, {6});
  Targets tg = Targets::hard(labels, DType::F32, Device::CPU);
  CrossEntropyResult ce = cross_entropy(t, z, tg);
  kernels::cpu::top_q_weights(ce.loss_per_sample->data<float>(), 6, 2, tg.sample_weights.data<float>());
  t.backward(ce.total);
  std::vector<double> g = t.grad(z).to_double_vector();
  std::vector<int> rank(6);
  int nonzero_rows = 0;
  for (int i = 0; i < 6; ++i) {
    double norm = 0;
    for (int k = 0; k < 4; ++k) norm += std::abs(g[i * 4 + k]);
    const bool top = kernels::loss_rank(ce.loss_per_sample->data<float>(), 6, i) < 2;
    CHECK((norm > 0) == top);
    nonzero_rows += norm > 0;
  }
  CHECK(nonzero_rows == 2);
  // The sampler: truncated epochs, backward count q, q adapts at epoch end, state in checkpoints.
  auto s = make_sampler("osgd", SamplerContext{1000, 100, 20, 0.3, 1, Device::CPU});
  CHECK(s->epochs() == 6);
  CHECK(s->iterations_per_epoch() == 10);
  CHECK(s->backward_count(100) == 100);
  s->end_epoch(0.92);
  CHECK(s->backward_count(100) == 25);
  TensorMap m;
  s->save(m);
  auto s2 = make_sampler("osgd", SamplerContext{1000, 100, 20, 0.3, 1, Device::CPU});
  s2->load(m);
  CHECK(s2->backward_count(100) == 25);
}

TEST_CASE("credit under mixing: each source sample gets the label-weighted mean of its own label's probability") {
  // Batch of 2 (data-set indices 10 and 11), mixup with lambda 0.7 and the partner permutation swapping them:
  // image 0 = 0.7 x(10) + 0.3 x(11): targets (own label p = 0.9 w 0.7, partner's label p = 0.5 w 0.3);
  // image 1 = 0.7 x(11) + 0.3 x(10): targets (p = 0.2 w 0.7, p = 0.4 w 0.3).
  // Sample 10 appears as column 0 of row 0 and column 1 of row 1: 0.7 * 0.9 + 0.3 * 0.4 = 0.75.
  // Sample 11: 0.7 * 0.2 + 0.3 * 0.5 = 0.29. (The batch's original labels alone would give 0.9 and 0.2.)
  const int64_t n = 12;
  std::vector<double> sum_p(n, 0);
  std::vector<int32_t> visits(n, 0);
  std::vector<float> last_p(n, 0);
  const int32_t idx[] = {10, 11}, src[] = {0, 1, 1, 0};
  const float prob[] = {0.9f, 0.5f, 0.2f, 0.4f}, lw[] = {0.7f, 0.3f, 0.7f, 0.3f};
  kernels::cpu::update_importance_stats(idx, prob, lw, src, 2, 2, sum_p.data(), visits.data(), last_p.data());
  CHECK(sum_p[10] == doctest::Approx(0.75).epsilon(1e-6));
  CHECK(sum_p[11] == doctest::Approx(0.29).epsilon(1e-6));
  CHECK(last_p[10] == doctest::Approx(0.75f));
  CHECK(visits[10] == 1);  // one visit: its weights sum to 1
  CHECK(visits[11] == 1);
  // RICAP-shaped: 4 columns; a source with a zero-area tile still gets the weighted mean of the others.
  std::fill(sum_p.begin(), sum_p.end(), 0.0);
  const int32_t idx1[] = {3};
  const int32_t src1[] = {0, 0, 0, 0};
  const float prob1[] = {0.1f, 0.2f, 0.3f, 0.4f}, lw1[] = {0.5f, 0.0f, 0.25f, 0.25f};
  kernels::cpu::update_importance_stats(idx1, prob1, lw1, src1, 1, 4, sum_p.data(), visits.data(), last_p.data());
  CHECK(sum_p[3] == doctest::Approx(0.5 * 0.1 + 0.25 * 0.3 + 0.25 * 0.4).epsilon(1e-6));
}

}  // TEST_SUITE
