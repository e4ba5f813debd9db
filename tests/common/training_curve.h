// A short training curve for comparing devices and arithmetics: 20 SGD steps (lr 0.05, momentum 0.9, weight decay
// 5e-4) of a ResNet-18 of width 0.25 on one fixed random batch of 32 CIFAR-sized images. Shared by the GPU suite
// (GPU vs CPU) and the CPU test that proves its limits (tests/cpu/test_gpu_limits.cpp).
#pragma once
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/sgd.h"
#include "models/resnet18.h"
#include "tests/common/helpers.h"

namespace bts::test {

inline std::vector<double> training_curve_losses(Device dev, int steps = 20) {
  ResNet18 model({0.25, 10, 3});
  model.finalize(DType::F32, dev, 11);
  Rng rng(12);
  Tensor x = random_tensor({32, 3, 32, 32}, DType::F32, rng).to(dev);
  Tensor labels = Tensor::empty({32}, DType::I32);
  for (int i = 0; i < 32; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
  Targets tg = Targets::hard(labels, DType::F32, dev);
  Sgd opt(model.params(), SgdOptions{0.9, 5e-4, false});
  Tape tape(dev);
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    tape.clear();
    model.zero_grad();
    CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, tape.input(x)), tg);
    tape.backward(ce.total);
    opt.step(0.05);
    losses.push_back(ce.total.value().to_double_vector()[0]);
  }
  return losses;
}

// How far one curve is from a reference curve: the first and second losses' relative differences and the whole
// curve's relative error (||ours - ref|| / ||ref||).
struct CurveDistance {
  double first = 0, second = 0, curve = 0;
};
struct CurveLimits {
  double first, second, curve;
};

inline CurveDistance curve_distance(const std::vector<double>& ours, const std::vector<double>& ref) {
  CurveDistance d;
  d.first = std::abs(ours[0] - ref[0]) / ref[0];
  d.second = std::abs(ours[1] - ref[1]) / ref[1];
  d.curve = rel_error(ours, ref);
  return d;
}

inline bool within(const CurveDistance& d, const CurveLimits& l) {
  return d.first < l.first && d.second < l.second && d.curve < l.curve;
}

}  // namespace bts::test
