#include "engine/module.h"

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

Linear::Linear(ModelStores& s, const std::string& name, int64_t in, int64_t out) {
  weight_ = s.params.add(name + ".weight", {out, in}, Init::LinearWeight, in);
  bias_ = s.params.add(name + ".bias", {out}, Init::LinearBias, in);
}

Var Linear::forward(Tape& t, Var x) { return linear(t, x, t.param(*weight_), t.param(*bias_)); }

Var ReLU::forward(Tape& t, Var x) { return relu(t, x); }

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
