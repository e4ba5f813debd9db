#include "engine/parameters.h"

namespace bts {

namespace {
// Each parameter starts on a 64-element boundary so slices stay aligned for vector loads.
int64_t round_up(int64_t n) { return (n + 63) / 64 * 64; }
}  // namespace

Parameter* ParameterStore::add(const std::string& name, const Shape& shape, Init init, int64_t fan_in) {
  BTS_CHECK(!finalized_, "parameter '" << name << "' added after the store was finalized");
  BTS_CHECK(find(name) == nullptr, "parameter name '" << name << "' registered twice");
  auto p = std::make_unique<Parameter>();
  p->name = name;
  p->shape = shape;
  p->init = init;
  p->fan_in = fan_in;
  p->offset = total_;
  total_ += round_up(shape_numel(shape));
  items_.push_back(std::move(p));
  return items_.back().get();
}

void ParameterStore::finalize(DType dtype, Device device) {
  BTS_CHECK(!finalized_, "parameter store finalized twice");
  flat_data_ = Tensor::zeros({total_}, dtype, device);
  if (with_grad_) flat_grad_ = Tensor::zeros({total_}, dtype, device);
  const size_t es = dtype_size(dtype);
  for (auto& p : items_) {
    p->data = Tensor::wrap(static_cast<char*>(flat_data_.raw()) + p->offset * es, p->shape, dtype, device);
    if (with_grad_)
      p->grad = Tensor::wrap(static_cast<char*>(flat_grad_.raw()) + p->offset * es, p->shape, dtype, device);
  }
  finalized_ = true;
}

Parameter* ParameterStore::find(const std::string& name) const {
  for (const auto& p : items_)
    if (p->name == name) return p.get();
  return nullptr;
}

Parameter& ParameterStore::at(const std::string& name) const {
  Parameter* p = find(name);
  BTS_CHECK(p != nullptr, "no parameter or buffer named '" << name << "'");
  return *p;
}

void ParameterStore::mark_grads_unwritten() {
  for (auto& p : items_) p->grad_written = false;
}

void ParameterStore::zero_unwritten_grads() {
  for (auto& p : items_)
    if (!p->grad_written && p->grad.defined()) {
      p->grad.zero();
      p->grad_written = true;
    }
}

}  // namespace bts
