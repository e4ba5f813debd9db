#include "engine/sgd.h"

#include "engine/dispatch.h"
#include "kernels/cpu/sgd.h"

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
  Tensor& g = params_.flat_grad();
  BTS_CHECK(w.device() == Device::CPU, "SGD on CUDA is not part of this build yet");
  kernels::SgdHyper h{lr, options_.momentum, options_.weight_decay, options_.nesterov};
  dispatch_float(w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::cpu::sgd_step<T>(w.numel(), w.data<T>(), g.data<T>(), momentum_.data<T>(), h);
  });
  ++steps_;
}

}  // namespace bts
