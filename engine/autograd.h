// Minimal reverse-mode autograd: a tape of ops recorded in forward and replayed in reverse.
//
// A Var is a handle to a Node on the tape: the node's value and, once backward reaches it, its gradient.
// Intermediate values and gradients are allocated from the tape's Arena and live until clear(); parameters
// enter the tape as views of the model's flat parameter store, so their gradients land there directly.
// Gradients follow an overwrite-or-accumulate rule: the first write into a gradient overwrites it (no memset),
// later writes add. Ops ask the tape for a GradTarget that carries that decision.
#pragma once
#include <deque>
#include <functional>
#include <vector>

#include "engine/arena.h"
#include "engine/backend.h"  // GradTarget
#include "engine/parameters.h"
#include "engine/tensor.h"

namespace bts {

struct Node {
  Tensor value;
  Tensor grad;                    // defined once something writes it (or it is a parameter's view)
  bool* written = nullptr;        // points at own_written or at the Parameter's flag
  bool own_written = false;
  bool requires_grad = false;
};

class Var {
 public:
  Var() = default;
  explicit Var(Node* n) : node_(n) {}
  const Tensor& value() const { return node_->value; }
  // The value for the op that produces it to write into.
  Tensor& mutable_value() const { return node_->value; }
  Node* node() const { return node_; }
  bool requires_grad() const { return node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }

 private:
  Node* node_ = nullptr;
};

class Tape {
 public:
  explicit Tape(Device device, size_t arena_bytes = 0) : arena_(device, arena_bytes) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Leaves.
  Var input(const Tensor& value);     // a view; never requires grad
  Var leaf(const Tensor& value, bool requires_grad);  // a view; its gradient is kept on the tape
  Var param(Parameter& p);            // requires grad when grad mode is on
  // A new op output of the given shape and layout (arena-allocated); requires grad if any input does and grad is on.
  // Its gradient gets the same layout.
  Var output(const Shape& shape, DType dtype, bool requires_grad, Layout layout = Layout::NCHW);
  // Arena-backed scratch kept until clear() (saved statistics, per-sample outputs).
  Tensor& scratch(const Shape& shape, DType dtype);

  // Record the backward of an op whose result is `out`; skipped when out's gradient was never written.
  void record(Var out, std::function<void()> backward);
  // Gradient of `v` for reading inside a backward closure (must have been written).
  const Tensor& grad(Var v) const;
  // Target for writing the gradient of `v`; empty when v does not require grad.
  GradTarget grad_target(Var v);

  // Seeds d(root)/d(root) = seed (root must be a scalar) and replays the tape in reverse.
  void backward(Var root, double seed = 1.0);
  // Seeds the gradient of any value with `seed_grad` (same shape and dtype) and replays the tape: the
  // vector-Jacobian product used by the gradient checks.
  void backward(Var root, const Tensor& seed_grad);
  // Drops every node and resets the arena: the next step reuses the same memory.
  void clear();

  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  Arena& arena() { return arena_; }
  Device device() const { return arena_.device(); }
  size_t num_recorded() const { return ops_.size(); }

 private:
  struct Op {
    Node* out;
    std::function<void()> backward;
  };
  Arena arena_;
  std::deque<Node> nodes_;     // deque: node addresses stay valid as the tape grows
  std::deque<Tensor> scratch_;
  std::vector<Op> ops_;
  bool grad_enabled_ = true;
  Tensor seed_;  // the last scalar seed on the tape's device: reused so backward never copies host->device
  double seed_value_ = 0;
};

// RAII no-grad mode for evaluation and scoring passes: ops record nothing and keep no gradients.
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape& t) : tape_(t), prev_(t.grad_enabled()) { t.set_grad_enabled(false); }
  ~NoGradGuard() { tape_.set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape& tape_;
  bool prev_;
};

}  // namespace bts
