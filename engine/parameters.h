// All of a model's parameters (or its buffers, such as BatchNorm running statistics) in one flat tensor,
// each named like PyTorch names it ("layer1.0.conv1.weight"). Layers hold Parameter pointers and never own
// weights; the optimizer updates the flat array in one call; checkpoints write it in one piece.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bts {

// How a parameter is initialised (see docs/MODEL.md).
enum class Init { KaimingNormalFanOut, LinearWeight, LinearBias, Ones, Zeros };

struct Parameter {
  std::string name;
  Shape shape;
  Init init = Init::Zeros;
  int64_t fan_in = 0;
  int64_t offset = 0;         // element offset in the flat array
  Tensor data;                // view into the flat data
  Tensor grad;                // view into the flat gradient (undefined in a buffer store)
  bool grad_written = false;  // false: grad holds stale values and the next backward overwrites it
};

class ParameterStore {
 public:
  explicit ParameterStore(bool with_grad) : with_grad_(with_grad) {}
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;

  // Register a tensor; only before finalize().
  Parameter* add(const std::string& name, const Shape& shape, Init init, int64_t fan_in = 0);
  // Allocate the flat storage and point every Parameter at its slice.
  void finalize(DType dtype, Device device);
  bool finalized() const { return finalized_; }

  Parameter* find(const std::string& name) const;  // nullptr when absent
  Parameter& at(const std::string& name) const;    // throws when absent
  const std::vector<std::unique_ptr<Parameter>>& items() const { return items_; }
  int64_t numel() const { return total_; }
  DType dtype() const { return flat_data_.dtype(); }
  Device device() const { return flat_data_.device(); }
  Tensor& flat_data() { return flat_data_; }
  Tensor& flat_grad() { return flat_grad_; }
  const Tensor& flat_data() const { return flat_data_; }

  // Start of a step: every gradient becomes "unwritten" (no memset; the first backward write overwrites).
  void mark_grads_unwritten();
  // Before an optimizer step: zero the gradients no backward wrote, so stale values never leak in.
  void zero_unwritten_grads();

 private:
  bool with_grad_;
  bool finalized_ = false;
  int64_t total_ = 0;
  std::vector<std::unique_ptr<Parameter>> items_;
  Tensor flat_data_, flat_grad_;
};

}  // namespace bts
