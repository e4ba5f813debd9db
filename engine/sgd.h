// SGD with momentum, weight decay and optional Nesterov, PyTorch semantics (torch.optim.SGD, dampening 0),
// applied to every parameter (weight decay included on BN and bias, as the paper's code does).
// One call updates the whole flat parameter array.
#pragma once
#include "engine/parameters.h"
#include "kernels/common/sgd_math.h"

namespace bts {

struct SgdOptions {
  double momentum = 0.9;
  double weight_decay = 1e-4;  // the paper's code hard-codes 1e-4
  bool nesterov = false;
};

class Sgd {
 public:
  Sgd(ParameterStore& params, SgdOptions options);
  // One update with learning rate lr. Gradients no backward wrote since zero_grad count as zero.
  void step(double lr) {
    set_lr(lr);
    step();
  }
  // The same in two parts: set_lr writes the rate to a device word in stream order (no wait), step() reads it when
  // it runs. A recorded step (engine/step_graph.h) holds step() only; set_lr before each replay moves the schedule.
  // step() keeps no host state (no step counter): a replayed graph runs none of its host code.
  void set_lr(double lr);
  void step();
  const SgdOptions& options() const { return options_; }
  Tensor& momentum_buffer() { return momentum_; }

 private:
  ParameterStore& params_;
  SgdOptions options_;
  Tensor momentum_;
  Tensor lr_;  // F64 [1] on the parameters' device: the rate the next step() reads
};

}  // namespace bts
