#include "engine/ops.h"

#include "engine/backend.h"
#include "kernels/common/check.h"

namespace bts {

namespace {
void require_same(const Tensor& a, const Tensor& b, const char* op) {
  BTS_CHECK(a.dtype() == b.dtype() && a.device() == b.device(),
            op << ": operands differ in dtype/device: " << a.describe() << " vs " << b.describe());
}
bool any_grad(Var a, Var b = Var(), Var c = Var(), Var d = Var()) {
  return (a.node() && a.requires_grad()) || (b.node() && b.requires_grad()) || (c.node() && c.requires_grad()) ||
         (d.node() && d.requires_grad());
}

// Mixed precision: an op on bf16 tensors is its f32 op between casts. The inputs widen exactly, the f32 kernels
// compute, the output is rounded once to bf16; backward likewise in reverse (every gradient of a bf16 value is
// stored as bf16, an accumulating one added in fp32 and rounded once). These are the semantics of cuDNN and cuBLAS
// with bf16 data and fp32 compute, so the CPU backend is their reference; a backend whose kernels take bf16
// themselves (Backend::native_bf16) is called directly instead, without the casts' extra passes and tensors.
bool is_bf16(const Tensor& t) { return t.dtype() == DType::BF16; }
bool composed_bf16(const Tensor& t) { return is_bf16(t) && !backend(t.device()).native_bf16(); }
// Per-channel statistics of a BatchNorm stay f32 for a bf16 input.
DType statistics_dtype(const Tensor& t) { return is_bf16(t) ? DType::F32 : t.dtype(); }
Var widened(Tape& t, Var v) { return is_bf16(v.value()) ? cast(t, v, DType::F32) : v; }
Var narrowed(Tape& t, Var v) { return cast(t, v, DType::BF16); }
}  // namespace

Var cast(Tape& t, Var x, DType to) { return cast(t, x, to, x.value().layout()); }

Var cast(Tape& t, Var x, DType to, Layout layout) {
  const Tensor& X = x.value();
  if (X.dtype() == to) return relayout(t, x, layout);
  BTS_CHECK((X.dtype() == DType::F32 && to == DType::BF16) || (X.dtype() == DType::BF16 && to == DType::F32),
            "cast: " << X.describe() << " to " << dtype_name(to) << " (only f32 <-> bf16)");
  BTS_CHECK(layout == X.layout() || X.ndim() == 4, "cast: " << X.describe() << " to layout " << layout_name(layout));
  Backend& be = backend(X.device());
  Var y = t.output(X.shape(), to, any_grad(x), layout);
  be.convert(X, to, GradTarget{y.mutable_value().raw(), false, layout});
  t.record(y, [&t, &be, x, y] {
    if (GradTarget gx = t.grad_target(x)) be.convert(t.grad(y), x.value().dtype(), gx);
  });
  return y;
}

Var relayout(Tape& t, Var x, Layout to) {
  const Tensor& X = x.value();
  if (X.layout() == to) return x;
  BTS_CHECK(X.ndim() == 4, "relayout: " << X.describe() << " is not 4-D");
  Backend& be = backend(X.device());
  Var y = t.output(X.shape(), X.dtype(), any_grad(x), to);
  be.relayout(X, GradTarget{y.mutable_value().raw(), false, to});
  t.record(y, [&t, &be, x, y] {
    if (GradTarget gx = t.grad_target(x)) be.relayout(t.grad(y), gx);
  });
  return y;
}

// Each op validates its operands, asks the backend of its input's device for the forward, and records a
// backward closure that calls the same backend. Gradients go through GradTargets (overwrite or accumulate).

Var conv2d(Tape& t, Var x, Var w, int stride, int pad) {
  const Tensor& X = x.value();
  const Tensor& Wt = w.value();
  // Mixed precision: f32 master weights for a bf16 input are cast here, straight into the layout the backend's
  // convolution takes (one pass each way instead of a cast and a relayout).
  if (is_bf16(X) && Wt.dtype() == DType::F32 && Wt.ndim() == 4) {
    Backend& be = backend(X.device());
    const Layout wl =
        composed_bf16(X) ? Layout::NCHW : be.conv_weight_layout(be.activation_layout(DType::BF16, Wt.dim(0)));
    return conv2d(t, x, cast(t, w, DType::BF16, wl), stride, pad);
  }
  require_same(X, Wt, "conv2d");
  BTS_CHECK(X.ndim() == 4 && Wt.ndim() == 4 && X.dim(1) == Wt.dim(1),
            "conv2d: input " << X.describe() << " does not match weight " << Wt.describe());
  BTS_CHECK(stride >= 1 && pad >= 0, "conv2d: stride " << stride << ", pad " << pad);
  if (composed_bf16(X)) return narrowed(t, conv2d(t, widened(t, x), widened(t, w), stride, pad));
  kernels::ConvShape s{X.dim(0), X.dim(1), X.dim(2), X.dim(3), Wt.dim(0), Wt.dim(2), Wt.dim(3), stride, pad};
  BTS_CHECK(s.P() >= 1 && s.Q() >= 1, "conv2d: input " << shape_str(X.shape()) << " too small for kernel "
                                                       << s.R << "x" << s.S);
  Backend& be = backend(X.device());
  const Layout out = be.activation_layout(X.dtype(), s.K);
  BTS_CHECK(Wt.layout() == Layout::NCHW || Wt.layout() == be.conv_weight_layout(out),
            "conv2d: weights must be KCRS (NCHW) or in the layout the convolution takes, got " << Wt.describe());
  // The operands in the layouts the backend's kernels take (no-ops where they already are).
  const Var xin = relayout(t, x, be.conv_input_layout(X.layout(), out, s.C));
  const Var win = relayout(t, w, be.conv_weight_layout(out));
  Var y = t.output({s.N, s.K, s.P(), s.Q()}, X.dtype(), any_grad(x, w), out);
  be.conv2d_forward(s, xin.value(), win.value(), y.mutable_value(), t.arena());
  t.record(y, [&t, &be, xin, win, y, s] {
    if (GradTarget gw = t.grad_target(win)) be.conv2d_backward_filter(s, xin.value(), t.grad(y), gw, t.arena());
    if (GradTarget gx = t.grad_target(xin)) be.conv2d_backward_data(s, t.grad(y), win.value(), gx, t.arena());
  });
  return y;
}

namespace {
// The parameters and running statistics are in the input's dtype, or f32 for a bf16 input (mixed precision keeps
// them in fp32, as cuDNN's BatchNorm takes them).
void check_batchnorm(const Tensor& X, Var gamma, Var beta, const Tensor& running_mean, const Tensor& running_var) {
  for (const Tensor* p : {&gamma.value(), &beta.value(), &running_mean, &running_var})
    BTS_CHECK(p->device() == X.device() && p->dtype() == statistics_dtype(X),
              "batchnorm2d: input " << X.describe() << " with parameter or statistic " << p->describe());
  BTS_CHECK(X.ndim() == 4 && gamma.value().numel() == X.dim(1) && beta.value().numel() == X.dim(1) &&
                running_mean.numel() == X.dim(1) && running_var.numel() == X.dim(1),
            "batchnorm2d: input " << X.describe() << " vs " << gamma.value().numel() << " channels");
}
void check_batch_statistics(const Tensor& X) {
  BTS_CHECK(X.dim(0) * X.dim(2) * X.dim(3) > 1, "batchnorm2d in training needs more than one value per channel, "
                                                "got input " << shape_str(X.shape()));
}
}  // namespace

Var batchnorm2d(Tape& t, Var x, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var, bool training,
                double momentum, double eps) {
  const Tensor& X = x.value();
  check_batchnorm(X, gamma, beta, running_mean, running_var);
  if (composed_bf16(X))
    return narrowed(t, batchnorm2d(t, widened(t, x), gamma, beta, running_mean, running_var, training, momentum, eps));
  Backend& be = backend(X.device());
  if (!training) {
    Var y = t.output(X.shape(), X.dtype(), false, X.layout());
    be.batchnorm_forward_eval(X, gamma.value(), beta.value(), eps, running_mean, running_var, y.mutable_value());
    return y;
  }
  check_batch_statistics(X);
  const int64_t C = X.dim(1);
  Var y = t.output(X.shape(), X.dtype(), any_grad(x, gamma, beta), X.layout());
  Tensor* mean = &t.scratch({C}, statistics_dtype(X));
  Tensor* invstd = &t.scratch({C}, statistics_dtype(X));
  be.batchnorm_forward_train(X, gamma.value(), beta.value(), eps, momentum, y.mutable_value(), *mean, *invstd, running_mean,
                             running_var, t.arena());
  t.record(y, [&t, &be, x, gamma, beta, y, mean, invstd] {
    GradTarget gg = t.grad_target(gamma);
    GradTarget gb = t.grad_target(beta);
    GradTarget gx = t.grad_target(x);
    BTS_CHECK(gg.accumulate == gb.accumulate, "batchnorm2d: gamma and beta gradients out of step");
    be.batchnorm_backward(x.value(), t.grad(y), gamma.value(), *mean, *invstd, gx, gg, gb, t.arena());
  });
  return y;
}

Var batchnorm2d_relu(Tape& t, Var x, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var, bool training,
                     double momentum, double eps) {
  if (!training) return relu(t, batchnorm2d(t, x, gamma, beta, running_mean, running_var, false, momentum, eps));
  const Tensor& X = x.value();
  check_batchnorm(X, gamma, beta, running_mean, running_var);
  check_batch_statistics(X);
  if (composed_bf16(X))
    return narrowed(t, batchnorm2d_relu(t, widened(t, x), gamma, beta, running_mean, running_var, true, momentum, eps));
  Backend& be = backend(X.device());
  const int64_t C = X.dim(1);
  Var y = t.output(X.shape(), X.dtype(), any_grad(x, gamma, beta), X.layout());
  Tensor* mean = &t.scratch({C}, statistics_dtype(X));
  Tensor* invstd = &t.scratch({C}, statistics_dtype(X));
  be.batchnorm_relu_forward_train(X, gamma.value(), beta.value(), eps, momentum, y.mutable_value(), *mean, *invstd,
                                  running_mean, running_var, t.arena());
  t.record(y, [&t, &be, x, gamma, beta, y, mean, invstd] {
    GradTarget gg = t.grad_target(gamma);
    GradTarget gb = t.grad_target(beta);
    GradTarget gx = t.grad_target(x);
    BTS_CHECK(gg.accumulate == gb.accumulate, "batchnorm2d_relu: gamma and beta gradients out of step");
    be.batchnorm_relu_backward(x.value(), y.value(), t.grad(y), gamma.value(), *mean, *invstd, gx, gg, gb, t.arena());
  });
  return y;
}

Var batchnorm2d_add_relu(Tape& t, Var x, Var z, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var,
                         bool training, double momentum, double eps) {
  const Tensor& X = x.value();
  const Tensor& Z = z.value();
  require_same(X, Z, "batchnorm2d_add_relu");
  BTS_CHECK(X.shape() == Z.shape() && X.layout() == Z.layout(),
            "batchnorm2d_add_relu: input " << X.describe() << " and shortcut " << Z.describe() << " differ");
  if (!training || composed_bf16(X))
    return add_relu(t, batchnorm2d(t, x, gamma, beta, running_mean, running_var, training, momentum, eps), z);
  check_batchnorm(X, gamma, beta, running_mean, running_var);
  check_batch_statistics(X);
  Backend& be = backend(X.device());
  const int64_t C = X.dim(1);
  Var y = t.output(X.shape(), X.dtype(), any_grad(x, z, gamma, beta), X.layout());
  Tensor* mean = &t.scratch({C}, statistics_dtype(X));
  Tensor* invstd = &t.scratch({C}, statistics_dtype(X));
  be.batchnorm_add_relu_forward_train(X, Z, gamma.value(), beta.value(), eps, momentum, y.mutable_value(), *mean,
                                      *invstd, running_mean, running_var, t.arena());
  t.record(y, [&t, &be, x, z, gamma, beta, y, mean, invstd] {
    GradTarget gg = t.grad_target(gamma);
    GradTarget gb = t.grad_target(beta);
    GradTarget gx = t.grad_target(x);
    GradTarget gz = t.grad_target(z);
    BTS_CHECK(gg.accumulate == gb.accumulate, "batchnorm2d_add_relu: gamma and beta gradients out of step");
    be.batchnorm_add_relu_backward(x.value(), y.value(), t.grad(y), gamma.value(), *mean, *invstd, gx, gz, gg, gb,
                                   t.arena());
  });
  return y;
}

Var relu(Tape& t, Var x) {
  const Tensor& X = x.value();
  if (composed_bf16(X)) return narrowed(t, relu(t, widened(t, x)));
  Backend& be = backend(X.device());
  Var y = t.output(X.shape(), X.dtype(), any_grad(x), X.layout());
  be.relu_forward(X, y.mutable_value());
  t.record(y, [&t, &be, x, y] {
    if (GradTarget gx = t.grad_target(x)) be.relu_backward(y.value(), t.grad(y), gx);
  });
  return y;
}

Var add(Tape& t, Var a, Var b) {
  const Tensor& A = a.value();
  require_same(A, b.value(), "add");
  BTS_CHECK(A.shape() == b.value().shape(), "add: shapes " << shape_str(A.shape()) << " and "
                                                           << shape_str(b.value().shape()));
  BTS_CHECK(A.layout() == b.value().layout(), "add: layouts differ: " << A.describe() << " vs " << b.value().describe());
  if (composed_bf16(A)) return narrowed(t, add(t, widened(t, a), widened(t, b)));
  Backend& be = backend(A.device());
  Var y = t.output(A.shape(), A.dtype(), any_grad(a, b), A.layout());
  be.add_forward(A, b.value(), y.mutable_value());
  t.record(y, [&t, &be, a, b, y] {
    if (GradTarget ga = t.grad_target(a)) be.copy_grad(t.grad(y), ga);
    if (GradTarget gb = t.grad_target(b)) be.copy_grad(t.grad(y), gb);
  });
  return y;
}

Var add_relu(Tape& t, Var a, Var b) {
  const Tensor& A = a.value();
  require_same(A, b.value(), "add_relu");
  BTS_CHECK(A.shape() == b.value().shape(), "add_relu: shapes " << shape_str(A.shape()) << " and "
                                                                << shape_str(b.value().shape()));
  BTS_CHECK(A.layout() == b.value().layout(),
            "add_relu: layouts differ: " << A.describe() << " vs " << b.value().describe());
  if (composed_bf16(A)) return narrowed(t, add_relu(t, widened(t, a), widened(t, b)));
  Backend& be = backend(A.device());
  Var y = t.output(A.shape(), A.dtype(), any_grad(a, b), A.layout());
  be.add_relu_forward(A, b.value(), y.mutable_value());
  t.record(y, [&t, &be, a, b, y] {
    GradTarget ga = t.grad_target(a);
    GradTarget gb = t.grad_target(b);
    be.add_relu_backward(y.value(), t.grad(y), ga, gb, t.arena());
  });
  return y;
}

Var global_avg_pool(Tape& t, Var x) {
  const Tensor& X = x.value();
  BTS_CHECK(X.ndim() == 4, "global_avg_pool: input " << X.describe() << " is not NCHW");
  if (composed_bf16(X)) return narrowed(t, global_avg_pool(t, widened(t, x)));
  const int64_t HW = X.dim(2) * X.dim(3);
  Backend& be = backend(X.device());
  Var y = t.output({X.dim(0), X.dim(1)}, X.dtype(), any_grad(x));
  be.global_avg_pool_forward(X, y.mutable_value());
  t.record(y, [&t, &be, x, y, HW] {
    if (GradTarget gx = t.grad_target(x)) be.global_avg_pool_backward(t.grad(y), HW, gx);
  });
  return y;
}

Var linear(Tape& t, Var x, Var w, Var b) {
  const Tensor& X = x.value();
  const Tensor& Wt = w.value();
  require_same(X, Wt, "linear");
  require_same(X, b.value(), "linear");
  BTS_CHECK(X.ndim() == 2 && Wt.ndim() == 2 && X.dim(1) == Wt.dim(1) && b.value().numel() == Wt.dim(0),
            "linear: input " << X.describe() << ", weight " << Wt.describe() << ", bias " << b.value().describe());
  if (is_bf16(X)) return narrowed(t, linear(t, widened(t, x), widened(t, w), widened(t, b)));
  Backend& be = backend(X.device());
  Var y = t.output({X.dim(0), Wt.dim(0)}, X.dtype(), any_grad(x, w, b));
  be.linear_forward(X, Wt, b.value(), y.mutable_value());
  t.record(y, [&t, &be, x, w, b, y] {
    GradTarget gx = t.grad_target(x);
    GradTarget gw = t.grad_target(w);
    GradTarget gb = t.grad_target(b);
    BTS_CHECK(gw.accumulate == gb.accumulate, "linear: weight and bias gradients out of step");
    be.linear_backward(x.value(), w.value(), t.grad(y), gx, gw, gb, t.arena());
  });
  return y;
}

Targets Targets::hard(const Tensor& labels, DType dtype, Device device) {
  BTS_CHECK(labels.dtype() == DType::I32 && labels.ndim() == 1, "labels must be i32 [N], got " << labels.describe());
  const int64_t N = labels.dim(0);
  Targets tg;
  tg.labels = labels.to(device).reshaped({N, 1}).clone();
  tg.label_weights = Tensor::empty({N, 1}, dtype, Device::CPU);
  tg.label_weights.fill(1.0);
  tg.sample_weights = Tensor::empty({N}, dtype, Device::CPU);
  tg.sample_weights.fill(N > 0 ? 1.0 / static_cast<double>(N) : 0.0);
  if (device != Device::CPU) {
    tg.label_weights = tg.label_weights.to(device);
    tg.sample_weights = tg.sample_weights.to(device);
  }
  return tg;
}

CrossEntropyResult cross_entropy(Tape& t, Var logits, const Targets& tg) {
  const Tensor& Z = logits.value();
  BTS_CHECK(Z.ndim() == 2, "cross_entropy: logits " << Z.describe() << " are not [N, K]");
  BTS_CHECK(!is_bf16(Z), "cross_entropy: logits " << Z.describe()
                                                  << " are bf16; the loss is computed in fp32 (cast the logits)");
  const int64_t N = Z.dim(0);
  BTS_CHECK(tg.labels.dtype() == DType::I32 && tg.labels.ndim() == 2 && tg.labels.dim(0) == N,
            "cross_entropy: labels " << tg.labels.describe() << " for logits " << Z.describe());
  const int64_t M = tg.labels.dim(1);
  BTS_CHECK(tg.label_weights.numel() == N * M && tg.sample_weights.numel() == N &&
                tg.label_weights.dtype() == Z.dtype() && tg.sample_weights.dtype() == Z.dtype(),
            "cross_entropy: label weights " << tg.label_weights.describe() << " / sample weights "
                                            << tg.sample_weights.describe() << " for logits " << Z.describe());
  BTS_CHECK(tg.labels.device() == Z.device() && tg.label_weights.device() == Z.device() &&
                tg.sample_weights.device() == Z.device(),
            "cross_entropy: targets must be on the logits' device (" << device_name(Z.device()) << ")");
  Backend& be = backend(Z.device());
  Var total = t.output({1}, Z.dtype(), any_grad(logits));
  Tensor& loss = t.scratch({N}, Z.dtype());
  Tensor& prob = t.scratch({N, M}, Z.dtype());
  Tensor* saved = &t.scratch({N}, DType::F64);  // each sample's log-sum-exp, in double as the CPU computes it
  // Views of the targets, kept by the backward closure (the caller's tensors live until the tape is cleared).
  const Tensor* labels = &tg.labels;
  const Tensor* lw = &tg.label_weights;
  const Tensor* sw = &tg.sample_weights;
  be.cross_entropy_forward(Z, *labels, *lw, *sw, loss, prob, *saved, total.mutable_value());
  t.record(total, [&t, &be, logits, total, labels, lw, sw, saved] {
    if (GradTarget gz = t.grad_target(logits))
      be.cross_entropy_backward(logits.value(), *labels, *lw, *sw, *saved, t.grad(total), gz);
  });
  return {total, &loss, &prob};
}

}  // namespace bts
