#include "engine/autograd.h"

namespace bts {

Var Tape::input(const Tensor& value) { return leaf(value, false); }

Var Tape::leaf(const Tensor& value, bool requires_grad) {
  BTS_CHECK(value.device() == device(), "tape on " << device_name(device()) << " given an input on "
                                                   << device_name(value.device()));
  Node& n = nodes_.emplace_back();
  n.value = value.view();
  n.requires_grad = requires_grad && grad_enabled_;
  n.written = &n.own_written;
  return Var(&n);
}

Var Tape::param(Parameter& p) {
  BTS_CHECK(p.data.defined(), "parameter '" << p.name << "' used before its store was finalized");
  BTS_CHECK(p.data.device() == device(), "parameter '" << p.name << "' is on " << device_name(p.data.device())
                                                       << ", tape on " << device_name(device()));
  Node& n = nodes_.emplace_back();
  n.value = p.data.view();
  n.requires_grad = grad_enabled_ && p.grad.defined();
  if (n.requires_grad) n.grad = p.grad.view();
  n.written = &p.grad_written;
  return Var(&n);
}

Var Tape::output(const Shape& shape, DType dtype, bool requires_grad, Layout layout) {
  Node& n = nodes_.emplace_back();
  n.value = Tensor::empty_in(arena_, shape, dtype, layout);
  n.requires_grad = requires_grad && grad_enabled_;
  n.written = &n.own_written;
  return Var(&n);
}

Tensor& Tape::scratch(const Shape& shape, DType dtype) {
  return scratch_.emplace_back(Tensor::empty_in(arena_, shape, dtype));
}

void Tape::record(Var out, std::function<void()> backward) {
  if (!grad_enabled_ || !out.requires_grad()) return;
  ops_.push_back(Op{out.node(), std::move(backward)});
}

const Tensor& Tape::grad(Var v) const {
  BTS_CHECK(*v.node()->written, "gradient read before anything wrote it");
  return v.node()->grad;
}

GradTarget Tape::grad_target(Var v) {
  Node* n = v.node();
  if (!n->requires_grad) return {};
  if (!n->grad.defined()) n->grad = Tensor::empty_in(arena_, n->value.shape(), n->value.dtype(), n->value.layout());
  BTS_CHECK(n->grad.layout() == n->value.layout(), "gradient layout differs from its value's");
  GradTarget t{n->grad.raw(), *n->written, n->value.layout()};
  *n->written = true;
  return t;
}

void Tape::backward(Var root, double seed) {
  BTS_CHECK(root.value().numel() == 1, "backward needs a scalar root, got " << root.value().describe());
  // Kept on the device between steps: a host->device copy each step would make the host wait for the GPU.
  if (!seed_.defined() || seed_value_ != seed || seed_.dtype() != root.value().dtype()) {
    Tensor host = Tensor::empty({1}, root.value().dtype());
    host.fill(seed);
    seed_ = host.to(device());
    seed_value_ = seed;
  }
  backward(root, seed_.reshaped(root.value().shape()));
}

void Tape::backward(Var root, const Tensor& seed_grad) {
  BTS_CHECK(root.requires_grad(), "backward from a value that does not require grad (no-grad mode?)");
  BTS_CHECK(seed_grad.shape() == root.value().shape() && seed_grad.dtype() == root.value().dtype(),
            "backward seed " << seed_grad.describe() << " does not match " << root.value().describe());
  grad_target(root);
  root.node()->grad.copy_from(seed_grad);
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it)
    if (*it->out->written) it->backward();
}

void Tape::clear() {
  ops_.clear();
  scratch_.clear();
  nodes_.clear();
  arena_.reset();
}

}  // namespace bts
