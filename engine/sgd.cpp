#include "engine/sgd.h"

#include "engine/backend.h"

namespace bts {

Sgd::Sgd(ParameterStore& params, SgdOptions options) : params_(params), options_(options) {
  BTS_CHECK(params.finalized(), "optimizer created before the model's parameters were allocated");
  BTS_CHECK(options.momentum >= 0 && options.weight_decay >= 0,
            "SGD momentum and weight decay must be >= 0, got " << options.momentum << ", " << options.weight_decay);
  BTS_CHECK(!options.nesterov || options.momentum > 0, "Nesterov momentum requires momentum > 0");
  momentum_ = Tensor::zeros({params.numel()}, params.dtype(), params.device());
}

void Sgd::step(double lr) {
  params_.zero_unwritten_grads();
  Tensor& w = params_.flat_data();
  backend(w.device()).sgd_step(w, params_.flat_grad(), momentum_,
                               kernels::SgdHyper{lr, options_.momentum, options_.weight_decay, options_.nesterov});
  ++steps_;
}

}  // namespace bts
