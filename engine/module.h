// Modules: layers that register their tensors in a Model's stores under PyTorch's names and build their part of
// the forward pass on a tape. A module never owns weights (the Model's flat stores do).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/parameters.h"

namespace bts {

struct ModelStores {
  ParameterStore params{true};    // trained, with gradients
  ParameterStore buffers{false};  // BatchNorm running statistics
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Var forward(Tape& t, Var x) = 0;
  void set_training(bool on);
  bool training() const { return training_; }

 protected:
  // Children are owned by the subclass; the base keeps pointers to propagate train/eval.
  void register_child(Module* m) { children_.push_back(m); }

 private:
  bool training_ = true;
  std::vector<Module*> children_;
};

class Conv2d : public Module {
 public:
  Conv2d(ModelStores& s, const std::string& name, int64_t in, int64_t out, int64_t kernel, int stride, int pad);
  Var forward(Tape& t, Var x) override;
  Parameter& weight() { return *weight_; }

 private:
  Parameter* weight_;
  int stride_, pad_;
};

class BatchNorm2d : public Module {
 public:
  static constexpr double kMomentum = 0.1;
  static constexpr double kEps = 1e-5;
  BatchNorm2d(ModelStores& s, const std::string& name, int64_t channels);
  Var forward(Tape& t, Var x) override;
  // relu(forward(x)) as one op (batchnorm2d_relu).
  Var forward_relu(Tape& t, Var x);
  // relu(forward(x) + z) as one op (batchnorm2d_add_relu): a residual block's end.
  Var forward_add_relu(Tape& t, Var x, Var z);

 private:
  Parameter *weight_, *bias_, *running_mean_, *running_var_;
};

class Linear : public Module {
 public:
  Linear(ModelStores& s, const std::string& name, int64_t in, int64_t out);
  Var forward(Tape& t, Var x) override;

 private:
  Parameter *weight_, *bias_;
};

class ReLU : public Module {
 public:
  Var forward(Tape& t, Var x) override;
};

// A model: its stores, its root module, its dtype and device, and the dtype it computes in.
class Model {
 public:
  virtual ~Model() = default;
  // Logits in the parameters' dtype. With a bf16 compute dtype the input is cast to bf16, the convolutions and the
  // linear layer use bf16 copies of their weights (cast each forward; their gradients flow back into the f32
  // master gradients), BatchNorm keeps f32 parameters and statistics, and the logits are cast back to f32 so the
  // loss and everything after it is fp32 (mixed precision as PyTorch's autocast does it).
  Var forward(Tape& t, Var x);
  // The parameters' dtype (default) or BF16 (parameters must be f32). Set after finalize().
  void set_compute_dtype(DType dtype);
  DType compute_dtype() const { return bf16_ ? DType::BF16 : stores_.params.dtype(); }
  void set_training(bool on) { root().set_training(on); }
  bool training() { return root().training(); }
  ModelStores& stores() { return stores_; }
  ParameterStore& params() { return stores_.params; }
  ParameterStore& buffers() { return stores_.buffers; }
  int64_t num_parameters() const;  // trainable elements (without alignment padding)
  // Start of a training step: gradients become "unwritten" (first backward write overwrites).
  void zero_grad() { stores_.params.mark_grads_unwritten(); }
  // Allocate storage and initialise deterministically from `seed` (see docs/MODEL.md).
  void finalize(DType dtype, Device device, uint64_t seed);
  virtual std::string describe() const = 0;
  // The layout (NCHW or NHWC) to build batches of in_channels-channel inputs in for this model on `device` at its
  // compute dtype: the one its stem convolution takes (Backend::input_layout). Any layout gives the same results.
  Layout input_layout(Device device, int64_t in_channels) const;

 protected:
  virtual Module& root() = 0;
  virtual int64_t stem_channels() const = 0;  // output channels of the first convolution
  ModelStores stores_;

 private:
  bool bf16_ = false;
};

}  // namespace bts
