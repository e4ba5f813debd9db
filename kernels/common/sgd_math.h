// One element of SGD with momentum, weight decay and optional Nesterov, in PyTorch's semantics
// (torch.optim.SGD, dampening 0): g += wd * w; buf = momentum * buf + g; step = nesterov ? g + momentum * buf : buf;
// w -= lr * step. With buf starting at zero the first step gives buf = g, as PyTorch's clone does.
#pragma once
#include "kernels/common/hd.h"

namespace bts::kernels {

struct SgdHyper {
  double lr;
  double momentum;
  double weight_decay;
  bool nesterov;
};

template <typename T>
BTS_HD void sgd_update_one(T& w, T g, T& buf, T lr, T momentum, T wd, bool nesterov) {
  g += wd * w;
  buf = momentum * buf + g;
  T step = nesterov ? g + momentum * buf : buf;
  w -= lr * step;
}

}  // namespace bts::kernels
