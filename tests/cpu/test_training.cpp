// End-to-end learning on the CPU: the tiny residual network learns a synthetic task (which quadrant holds a
// bright blob, under noise) to high held-out accuracy in a few seconds.
#include <cstdio>

#include "engine/ops.h"
#include "engine/sgd.h"
#include "models/tiny_net.h"
#include "tests/common/helpers.h"

using namespace bts;

namespace {
void make_blobs(Rng& rng, int64_t n, Tensor& x, Tensor& y) {
  const int64_t S = 12;
  x = Tensor::empty({n, 1, S, S}, DType::F32);
  y = Tensor::empty({n}, DType::I32);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t cls = static_cast<int32_t>(rng.below(4));
    y.data<int32_t>()[i] = cls;
    float* img = x.data<float>() + i * S * S;
    for (int64_t k = 0; k < S * S; ++k) img[k] = static_cast<float>(0.5 * rng.normal());
    const int64_t r0 = (cls / 2) * 6 + static_cast<int64_t>(rng.below(3)), c0 = (cls % 2) * 6 + static_cast<int64_t>(rng.below(3));
    for (int64_t r = r0; r < r0 + 3; ++r)
      for (int64_t c = c0; c < c0 + 3; ++c) img[r * S + c] += 2.0f;
  }
}

double accuracy(Model& m, const Tensor& x, const Tensor& y) {
  m.set_training(false);
  Tape t(Device::CPU);
  NoGradGuard ng(t);
  std::vector<double> z = m.forward(t, t.input(x)).value().to_double_vector();
  int64_t correct = 0, n = y.numel(), K = static_cast<int64_t>(z.size()) / n;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[i * K + k] > z[i * K + best]) best = k;
    correct += best == y.data<int32_t>()[i];
  }
  m.set_training(true);
  return static_cast<double>(correct) / static_cast<double>(n);
}
}  // namespace

TEST_SUITE("training") {

TEST_CASE("TinyNet learns the quadrant task to >= 95% held-out accuracy") {
  Rng rng(2024);
  Tensor x_test, y_test;
  make_blobs(rng, 256, x_test, y_test);
  TinyNet model({8, 4, 1});
  model.finalize(DType::F32, Device::CPU, 7);
  Sgd opt(model.params(), SgdOptions{0.9, 1e-4, false});
  const double acc0 = accuracy(model, x_test, y_test);
  Tape tape(Device::CPU);
  double loss = 0;
  for (int step = 0; step < 150; ++step) {
    Tensor x, y;
    make_blobs(rng, 32, x, y);
    Targets tg = Targets::hard(y, DType::F32, Device::CPU);
    tape.clear();
    model.zero_grad();
    CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, tape.input(x)), tg);
    tape.backward(ce.total);
    opt.step(0.05);
    loss = ce.total.value().to_double_vector()[0];
  }
  const double acc = accuracy(model, x_test, y_test);
  std::printf("  TinyNet quadrant task: accuracy %.3f before, %.3f after 150 steps (last loss %.4f)\n", acc0, acc, loss);
  CHECK(acc >= 0.95);
  CHECK(loss < 0.3);
}

}  // TEST_SUITE
