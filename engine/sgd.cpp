#include "engine/sgd.h"

#include "engine/dispatch.h"
#include "kernels/cpu/sgd.h"
#ifdef BTS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/sgd.h"
#endif

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
  kernels::SgdHyper h{lr, options_.momentum, options_.weight_decay, options_.nesterov};
  if (w.device() == Device::CUDA) {
#ifdef BTS_WITH_CUDA
    BTS_CHECK(w.dtype() == DType::F32, "SGD on CUDA updates f32 parameters, got " << w.describe());
    kernels::cuda::sgd_step(kernels::cuda::current_context().stream(), w.numel(), w.data<float>(), g.data<float>(),
                            momentum_.data<float>(), h);
    ++steps_;
    return;
#else
    BTS_FAIL("SGD on a CUDA tensor in a build without CUDA");
#endif
  }
  dispatch_float(w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kernels::cpu::sgd_step<T>(w.numel(), w.data<T>(), g.data<T>(), momentum_.data<T>(), h);
  });
  ++steps_;
}

}  // namespace bts
