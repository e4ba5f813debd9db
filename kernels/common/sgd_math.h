// One element of SGD with momentum, weight decay and optional Nesterov, in PyTorch's semantics
// (torch.optim.SGD, dampening 0): g += wd * w; buf = momentum * buf + g; step = nesterov ? g + momentum * buf : buf;
// w -= lr * step. With buf starting at zero the first step gives buf = g, as PyTorch's clone does.
// The learning rate is not among the hyperparameters: the kernels read it from memory (a double the caller writes
// before the step, Sgd::set_lr), so a recorded step (engine/step_graph.h) follows the schedule without re-recording.
// Every product and sum is rounded on its own (kernels/common/rounded.h), so the GPU's update equals the CPU's
// bit for bit (tests/gpu/test_ops_gpu.cpp compares them).
#pragma once
#include "kernels/common/hd.h"
#include "kernels/common/rounded.h"

namespace bts::kernels {

struct SgdHyper {
  double momentum;
  double weight_decay;
  bool nesterov;
};

template <typename T>
BTS_HD void sgd_update_one(T& w, T g, T& buf, T lr, T momentum, T wd, bool nesterov) {
  g = add_rn(g, mul_rn(wd, w));
  buf = add_rn(mul_rn(momentum, buf), g);
  const T step = nesterov ? add_rn(g, mul_rn(momentum, buf)) : buf;
  w = add_rn(w, -mul_rn(lr, step));
}

}  // namespace bts::kernels
