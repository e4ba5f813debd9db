#include "engine/module.h"

#include "engine/backend.h"
#include "engine/init.h"
#include "engine/ops.h"

namespace bts {

void Module::set_training(bool on) {
  training_ = on;
  for (Module* c : children_) c->set_training(on);
}

Conv2d::Conv2d(ModelStores& s, const std::string& name, int64_t in, int64_t out, int64_t kernel, int stride,
               int pad)
    : stride_(stride), pad_(pad) {
  weight_ = s.params.add(name + ".weight", {out, in, kernel, kernel}, Init::KaimingNormalFanOut, in * kernel * kernel);
}

namespace {
// The weights a layer computes with: the parameter itself, or its bf16 copy when the activations are bf16.
Var compute_weight(Tape& t, Parameter& p, const Var& x) {
  return x.value().dtype() == DType::BF16 ? cast(t, t.param(p), DType::BF16) : t.param(p);
}
}  // namespace

// A bf16 input gets the f32 weights: conv2d casts them straight into its kernels' layout.
Var Conv2d::forward(Tape& t, Var x) { return conv2d(t, x, t.param(*weight_), stride_, pad_); }

BatchNorm2d::BatchNorm2d(ModelStores& s, const std::string& name, int64_t c) {
  weight_ = s.params.add(name + ".weight", {c}, Init::Ones);
  bias_ = s.params.add(name + ".bias", {c}, Init::Zeros);
  running_mean_ = s.buffers.add(name + ".running_mean", {c}, Init::Zeros);
  running_var_ = s.buffers.add(name + ".running_var", {c}, Init::Ones);
}

Var BatchNorm2d::forward(Tape& t, Var x) {
  return batchnorm2d(t, x, t.param(*weight_), t.param(*bias_), running_mean_->data, running_var_->data, training(),
                     kMomentum, kEps);
}

Var BatchNorm2d::forward_relu(Tape& t, Var x) {
  return batchnorm2d_relu(t, x, t.param(*weight_), t.param(*bias_), running_mean_->data, running_var_->data,
                          training(), kMomentum, kEps);
}

Var BatchNorm2d::forward_add_relu(Tape& t, Var x, Var z) {
  return batchnorm2d_add_relu(t, x, z, t.param(*weight_), t.param(*bias_), running_mean_->data, running_var_->data,
                              training(), kMomentum, kEps);
}

Linear::Linear(ModelStores& s, const std::string& name, int64_t in, int64_t out) {
  weight_ = s.params.add(name + ".weight", {out, in}, Init::LinearWeight, in);
  bias_ = s.params.add(name + ".bias", {out}, Init::LinearBias, in);
}

Var Linear::forward(Tape& t, Var x) {
  return linear(t, x, compute_weight(t, *weight_, x), compute_weight(t, *bias_, x));
}

Var ReLU::forward(Tape& t, Var x) { return relu(t, x); }

Var Model::forward(Tape& t, Var x) {
  if (!bf16_) return root().forward(t, x);
  return cast(t, root().forward(t, cast(t, x, DType::BF16)), stores_.params.dtype());
}

Layout Model::input_layout(Device device, int64_t in_channels) const {
  return backend(device).input_layout(compute_dtype(), in_channels, stem_channels());
}

void Model::set_compute_dtype(DType dtype) {
  const DType master = stores_.params.dtype();
  BTS_CHECK(dtype == master || (dtype == DType::BF16 && master == DType::F32),
            "a model with " << dtype_name(master) << " parameters cannot compute in " << dtype_name(dtype)
                            << " (bf16 needs f32 master parameters)");
  bf16_ = dtype == DType::BF16;
}

int64_t Model::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : stores_.params.items()) n += shape_numel(p->shape);
  return n;
}

void Model::finalize(DType dtype, Device device, uint64_t seed) {
  stores_.params.finalize(dtype, device);
  stores_.buffers.finalize(dtype, device);
  init_parameters(stores_.params, seed);
  init_parameters(stores_.buffers, seed);
}

}  // namespace bts
