#include "engine/sgd.h"

#include <cmath>

#include "engine/backend.h"

namespace bts {

Sgd::Sgd(ParameterStore& params, SgdOptions options) : params_(params), options_(options) {
  BTS_CHECK(params.finalized(), "optimizer created before the model's parameters were allocated");
  BTS_CHECK(options.momentum >= 0 && options.weight_decay >= 0,
            "SGD momentum and weight decay must be >= 0, got " << options.momentum << ", " << options.weight_decay);
  BTS_CHECK(!options.nesterov || options.momentum > 0, "Nesterov momentum requires momentum > 0");
  momentum_ = Tensor::zeros({params.numel()}, params.dtype(), params.device());
  lr_ = Tensor::zeros({1}, DType::F64, params.device());
}

void Sgd::set_lr(double lr) {
  BTS_CHECK(std::isfinite(lr) && lr >= 0, "SGD learning rate must be finite and >= 0, got " << lr);
  backend(lr_.device()).write_bytes(lr_.data<double>(), &lr, sizeof lr);
}

void Sgd::step() {
  params_.zero_unwritten_grads();
  Tensor& w = params_.flat_data();
  backend(w.device()).sgd_step(w, params_.flat_grad(), momentum_, lr_,
                               kernels::SgdHyper{options_.momentum, options_.weight_decay, options_.nesterov});
}

}  // namespace bts
