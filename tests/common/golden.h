// The PyTorch golden comparison, shared by the CPU suite (tests/cpu/test_golden.cpp) and the GPU suite.
// tests/golden/resnet18_golden.bin (written by tools/golden/make_golden.py, float64) holds a reduced-width
// ResNet-18's initial state, a batch, the logits, the loss, every parameter gradient, the BN running statistics
// after the step, the losses of 5 SGD steps, some parameters after them and the eval-mode logits at the end.
// Every tensor is compared with its own limit on ||ours - torch|| / ||torch||, and each error is printed as a
// fraction of its limit.
#pragma once
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "engine/ops.h"
#include "engine/sgd.h"
#include "engine/tensor_file.h"
#include "models/resnet18.h"
#include "tests/common/helpers.h"

namespace bts::test {

// One limit per kind of tensor. A limit of kNotCompared prints the error but checks nothing (TF32 runs: see
// tests/common/gpu_limits.h for which tensors TF32 arithmetic can be held to).
constexpr double kNotCompared = -1;
struct Limits {
  double logits, loss, grad, bn_stats, step_losses, final_params, eval_logits;
};

inline Tensor convert(const Tensor& src, DType dt) {
  std::vector<double> v = src.to_double_vector();
  Tensor t = Tensor::empty(src.shape(), dt);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::F64) t.data<double>()[i] = v[i];
    else if (dt == DType::F32) t.data<float>()[i] = static_cast<float>(v[i]);
    else t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
  }
  return t;
}

inline double meta(const TensorMap& g, const std::string& k) { return g.at("meta." + k).to_double_vector().at(0); }

struct Report {
  bool enforce = true;  // false: failures are counted (and printed) but are not test failures
  bool quiet = false;   // true: only the summary line is printed
  int checked = 0, failed = 0;
  double worst_fraction = 0;
  std::string worst;
  std::map<std::string, double> worst_error;  // per kind of tensor: the largest relative error seen
  void compare(const std::string& kind, const std::string& name, const Tensor& ours, const Tensor& torch,
               double limit) {
    REQUIRE_MESSAGE(ours.numel() == torch.numel(), name << ": " << ours.describe() << " vs " << torch.describe());
    const double err = bts::test::rel_error(ours.to_double_vector(), torch.to_double_vector());
    double& w = worst_error[kind];
    w = std::max(w, err);
    if (limit == kNotCompared) {
      if (!quiet) std::printf("    %-34s rel err %.2e  (not compared)\n", name.c_str(), err);
      return;
    }
    const double frac = err / limit;
    if (!quiet)
      std::printf("    %-34s rel err %.2e  limit %.1e  %6.3f of limit%s\n", name.c_str(), err, limit, frac,
                  frac < 1 ? "" : "  <-- FAIL");
    ++checked;
    if (!(frac < 1)) ++failed;
    if (!(frac <= worst_fraction)) {
      worst_fraction = frac;
      worst = name;
    }
    if (enforce) CHECK_MESSAGE(err < limit, name << " differs from PyTorch: rel error " << err << " > " << limit);
  }
};

// One golden comparison: the run's arithmetic (dtype, CPU algorithm, device), its limits, and for the tests that
// prove limits can fail: `tamper_init`, called on the model once its initial state is loaded (e.g. to plant a
// wrongly laid-out weight), and `tamper_grad`, called right after step 0's backward (e.g. to plant a wrong
// gradient, whose effect then flows through the remaining steps).
struct GoldenRun {
  DType dtype = DType::F32;
  CpuAlgo algo = CpuAlgo::Fast;
  Limits limits{};
  Device device = Device::CPU;
  bool enforce = true;
  bool quiet = false;
  std::function<void(ResNet18&)> tamper_init, tamper_grad;
};

inline Report run_golden(const GoldenRun& run) {
  const TensorMap g = read_tensor_file(std::string(BTS_GOLDEN_DIR) + "/resnet18_golden.bin",
                                        TensorFileChecksums::Optional);  // written by PyTorch: version 1
  REQUIRE(meta(g, "format_version") == 1);
  const ResNet18Config cfg{meta(g, "width"), static_cast<int64_t>(meta(g, "classes")),
                           static_cast<int64_t>(meta(g, "in_channels"))};
  const DType dt = run.dtype;
  const Device dev = run.device;
  const Limits& lim = run.limits;
  const CpuAlgo prev = cpu_algo();
  set_cpu_algo(run.algo);
  if (!run.quiet)
    std::printf("  golden: %s on %s, %s CPU algorithm\n", dtype_name(dt), device_name(dev),
                cpu_algo_name(run.algo));

  ResNet18 model(cfg);
  model.finalize(dt, dev, 0);
  int loaded = 0;
  for (ParameterStore* store : {&model.params(), &model.buffers()})
    for (const auto& p : store->items()) {
      auto it = g.find("init." + p->name);
      REQUIRE_MESSAGE(it != g.end(), "golden file lacks init." << p->name);
      REQUIRE_MESSAGE(it->second.shape() == p->shape, p->name << ": golden " << shape_str(it->second.shape())
                                                              << " vs engine " << shape_str(p->shape));
      p->data.copy_from(convert(it->second, dt));
      ++loaded;
    }
  int golden_inits = 0;
  for (const auto& kv : g) golden_inits += kv.first.rfind("init.", 0) == 0;
  REQUIRE_MESSAGE(loaded == golden_inits, "engine has " << loaded << " tensors, golden file " << golden_inits);
  if (run.tamper_init) run.tamper_init(model);

  Tensor x = convert(g.at("input"), dt).to(dev);
  Tensor labels = convert(g.at("labels"), DType::I32);
  Targets targets = Targets::hard(labels, dt, dev);
  Sgd opt(model.params(), SgdOptions{meta(g, "momentum"), meta(g, "weight_decay"), false});
  const double lr = meta(g, "lr");
  const int steps = static_cast<int>(meta(g, "steps"));
  Tape tape(dev);
  tape.arena().set_poison(true);  // an element an op forgets to write becomes NaN and fails
  std::vector<double> losses;
  Report r;
  r.enforce = run.enforce;
  r.quiet = run.quiet;
  for (int step = 0; step < steps; ++step) {
    tape.clear();
    model.zero_grad();
    Var logits = model.forward(tape, tape.input(x));
    CrossEntropyResult ce = cross_entropy(tape, logits, targets);
    tape.backward(ce.total);
    if (step == 0) {
      if (run.tamper_grad) run.tamper_grad(model);
      r.compare("logits", "logits", logits.value(), g.at("logits"), lim.logits);
      r.compare("loss", "loss", ce.total.value(), g.at("loss"), lim.loss);
      for (const auto& p : model.params().items())
        r.compare("grad", "grad." + p->name, p->grad, g.at("grad." + p->name), lim.grad);
      for (const auto& p : model.buffers().items())
        r.compare("bn_stats", "bn_after." + p->name, p->data, g.at("bn_after." + p->name), lim.bn_stats);
    }
    losses.push_back(ce.total.value().to_double_vector()[0]);
    opt.step(lr);
  }
  model.set_training(false);
  {
    NoGradGuard no_grad(tape);
    r.compare("eval_logits", "eval_logits", model.forward(tape, tape.input(x)).value(), g.at("eval_logits"),
              lim.eval_logits);
  }
  model.set_training(true);
  r.compare("step_losses", "step_losses", Tensor::from_vector<double>(losses, {steps}), g.at("step_losses"),
            lim.step_losses);
  for (const auto& kv : g)
    if (kv.first.rfind("final.", 0) == 0)
      r.compare("final_params", kv.first, model.params().at(kv.first.substr(6)).data, kv.second, lim.final_params);
  std::printf("  golden %s on %s: %d tensors checked, %d failed, worst %s at %.3f of its limit\n", dtype_name(dt),
              device_name(dev), r.checked, r.failed, r.worst.c_str(), r.worst_fraction);
  set_cpu_algo(prev);
  return r;
}

inline void run_against_golden(DType dt, CpuAlgo algo, const Limits& lim, Device dev = Device::CPU) {
  GoldenRun run;
  run.dtype = dt;
  run.algo = algo;
  run.limits = lim;
  run.device = dev;
  run_golden(run);
}

}  // namespace bts::test
