// Shared test helpers: random tensors, error norms, and a finite-difference gradient checker (Caffe's
// GradientChecker is the model) that works through the engine's tape in double precision.
#pragma once
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "data/fashion_mnist.h"
#include "engine/tensor.h"

namespace bts::test {

// The end-to-end tests train on real Fashion-MNIST (Debian's dataset-fashion-mnist, or the folder named by
// $BTS_FASHION_MNIST_DIR); they skip without it.
inline bool have_fashion_mnist() { return bts::have_fashion_mnist(); }

// The CPU implementation `a` until the scope ends, then the previous one again (also when a check throws).
struct AlgoScope {
  explicit AlgoScope(CpuAlgo a) : prev(cpu_algo()) { set_cpu_algo(a); }
  ~AlgoScope() { set_cpu_algo(prev); }
  AlgoScope(const AlgoScope&) = delete;
  AlgoScope& operator=(const AlgoScope&) = delete;
  CpuAlgo prev;
};

inline Tensor random_tensor(const Shape& shape, DType dtype, Rng& rng, double scale = 1.0) {
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = scale * rng.normal();
    if (dtype == DType::F64) t.data<double>()[i] = v;
    else t.data<float>()[i] = static_cast<float>(v);
  }
  return t;
}

// ||a - b|| / max(||b||, tiny): the relative error used throughout.
inline double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}
inline double rel_error(const Tensor& a, const Tensor& b) { return rel_error(a.to_double_vector(), b.to_double_vector()); }

using OpBuilder = std::function<Var(Tape&, std::vector<Var>&)>;

// Checks d(sum(R * f(inputs)))/d(input) from the tape against central differences, for every element of every
// input marked in `wrt`. Inputs are f64 host tensors; f must be deterministic given its inputs.
// Returns the worst relative error (also printed).
inline double gradcheck(const std::string& label, const OpBuilder& f, std::vector<Tensor>& inputs,
                        const std::vector<bool>& wrt, double tolerance = 1e-7, double h = 1e-6) {
  Rng rng(7, 1);
  // Analytic gradients via one backward seeded with R.
  Tape tape(Device::CPU);
  std::vector<Var> vars;
  for (size_t i = 0; i < inputs.size(); ++i) vars.push_back(tape.leaf(inputs[i], wrt[i]));
  Var y = f(tape, vars);
  Tensor R = random_tensor(y.shape(), DType::F64, rng);
  tape.backward(y, R);
  std::vector<std::vector<double>> analytic(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (wrt[i]) analytic[i] = tape.grad(vars[i]).to_double_vector();

  auto objective = [&]() {
    Tape t(Device::CPU);
    std::vector<Var> vs;
    for (auto& in : inputs) vs.push_back(t.input(in));
    Var out = f(t, vs);
    double s = 0;
    const double* o = out.value().data<double>();
    for (int64_t k = 0; k < R.numel(); ++k) s += o[k] * R.data<double>()[k];
    return s;
  };
  double worst = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!wrt[i]) continue;
    double* x = inputs[i].data<double>();
    std::vector<double> numeric(static_cast<size_t>(inputs[i].numel()));
    for (int64_t j = 0; j < inputs[i].numel(); ++j) {
      const double orig = x[j];
      x[j] = orig + h;
      const double plus = objective();
      x[j] = orig - h;
      const double minus = objective();
      x[j] = orig;
      numeric[static_cast<size_t>(j)] = (plus - minus) / (2 * h);
    }
    const double err = rel_error(analytic[i], numeric);
    std::printf("  gradcheck %-28s input %zu: rel error %.2e (limit %.0e, %.3f of limit)\n", label.c_str(), i, err,
                tolerance, err / tolerance);
    CHECK_MESSAGE(err < tolerance, label << " input " << i << " gradient rel error " << err);
    worst = std::max(worst, err);
  }
  return worst;
}

}  // namespace bts::test
