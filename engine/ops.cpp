#include "engine/ops.h"

#include "engine/dispatch.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"

namespace bts {

namespace kc = kernels::cpu;

namespace {
CpuAlgo g_cpu_algo = CpuAlgo::Gemm;

void require_cpu(const Tensor& x, const char* op) {
  BTS_CHECK(x.device() == Device::CPU,
            op << ": the CUDA implementation is not part of this build yet (tensor " << x.describe() << ")");
}
void require_same(const Tensor& a, const Tensor& b, const char* op) {
  BTS_CHECK(a.dtype() == b.dtype() && a.device() == b.device(),
            op << ": operands differ in dtype/device: " << a.describe() << " vs " << b.describe());
}
bool any_grad(Var a, Var b = Var(), Var c = Var()) {
  return (a.node() && a.requires_grad()) || (b.node() && b.requires_grad()) || (c.node() && c.requires_grad());
}
}  // namespace

void set_cpu_algo(CpuAlgo algo) { g_cpu_algo = algo; }
CpuAlgo cpu_algo() { return g_cpu_algo; }

Var conv2d(Tape& t, Var x, Var w, int stride, int pad) {
  const Tensor& X = x.value();
  const Tensor& Wt = w.value();
  require_cpu(X, "conv2d");
  require_same(X, Wt, "conv2d");
  BTS_CHECK(X.ndim() == 4 && Wt.ndim() == 4 && X.dim(1) == Wt.dim(1),
            "conv2d: input " << X.describe() << " does not match weight " << Wt.describe());
  BTS_CHECK(stride >= 1 && pad >= 0, "conv2d: stride " << stride << ", pad " << pad);
  kernels::ConvShape s{X.dim(0), X.dim(1), X.dim(2), X.dim(3), Wt.dim(0), Wt.dim(2), Wt.dim(3), stride, pad};
  BTS_CHECK(s.P() >= 1 && s.Q() >= 1, "conv2d: input " << shape_str(X.shape()) << " too small for kernel "
                                                       << s.R << "x" << s.S);
  Var y = t.output({s.N, s.K, s.P(), s.Q()}, X.dtype(), any_grad(x, w));
  const bool ref = g_cpu_algo == CpuAlgo::Reference;
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    (ref ? kc::conv2d_forward_ref<T> : kc::conv2d_forward_gemm<T>)(s, X.data<T>(), Wt.data<T>(),
                                                                     y.value().data<T>());
  });
  t.record(y, [&t, x, w, y, s, ref] {
    dispatch_float(x.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* dy = t.grad(y).data<T>();
      if (GradTarget gw = t.grad_target(w))
        (ref ? kc::conv2d_backward_filter_ref<T> : kc::conv2d_backward_filter_gemm<T>)(
            s, x.value().data<T>(), dy, gw.as<T>(), gw.accumulate);
      if (GradTarget gx = t.grad_target(x))
        (ref ? kc::conv2d_backward_data_ref<T> : kc::conv2d_backward_data_gemm<T>)(s, dy, w.value().data<T>(),
                                                                                   gx.as<T>(), gx.accumulate);
    });
  });
  return y;
}

Var batchnorm2d(Tape& t, Var x, Var gamma, Var beta, Tensor& running_mean, Tensor& running_var, bool training,
                double momentum, double eps) {
  const Tensor& X = x.value();
  require_cpu(X, "batchnorm2d");
  require_same(X, gamma.value(), "batchnorm2d");
  require_same(X, running_mean, "batchnorm2d");
  BTS_CHECK(X.ndim() == 4 && gamma.value().numel() == X.dim(1) && beta.value().numel() == X.dim(1) &&
                running_mean.numel() == X.dim(1) && running_var.numel() == X.dim(1),
            "batchnorm2d: input " << X.describe() << " vs " << gamma.value().numel() << " channels");
  kc::BatchNormShape s{X.dim(0), X.dim(1), X.dim(2) * X.dim(3)};
  if (!training) {
    Var y = t.output(X.shape(), X.dtype(), false);
    dispatch_float(X.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kc::batchnorm_forward_eval<T>(s, X.data<T>(), gamma.value().data<T>(), beta.value().data<T>(), T(eps),
                                    running_mean.data<T>(), running_var.data<T>(), y.value().data<T>());
    });
    return y;
  }
  BTS_CHECK(s.N * s.HW > 1, "batchnorm2d in training needs more than one value per channel, got input "
                                << shape_str(X.shape()));
  Var y = t.output(X.shape(), X.dtype(), any_grad(x, gamma, beta));
  Tensor& mean = t.scratch({s.C}, X.dtype());
  Tensor& invstd = t.scratch({s.C}, X.dtype());
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::batchnorm_forward_train<T>(s, X.data<T>(), gamma.value().data<T>(), beta.value().data<T>(), T(eps),
                                   T(momentum), y.value().data<T>(), mean.data<T>(), invstd.data<T>(),
                                   running_mean.data<T>(), running_var.data<T>());
  });
  Tensor* pm = &mean;
  Tensor* pi = &invstd;
  t.record(y, [&t, x, gamma, beta, y, s, pm, pi] {
    dispatch_float(x.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      GradTarget gg = t.grad_target(gamma);
      GradTarget gb = t.grad_target(beta);
      GradTarget gx = t.grad_target(x);
      BTS_CHECK(gg.accumulate == gb.accumulate, "batchnorm2d: gamma and beta gradients out of step");
      // The kernel always produces all three; unwanted ones go to scratch.
      T* dgamma = gg ? gg.as<T>() : t.scratch({s.C}, x.value().dtype()).template data<T>();
      T* dbeta = gb ? gb.as<T>() : t.scratch({s.C}, x.value().dtype()).template data<T>();
      T* dx = gx ? gx.as<T>() : t.scratch(x.value().shape(), x.value().dtype()).template data<T>();
      kc::batchnorm_backward<T>(s, x.value().data<T>(), t.grad(y).data<T>(), gamma.value().data<T>(),
                                pm->data<T>(), pi->data<T>(), dx, dgamma, dbeta, gx.accumulate, gg.accumulate);
    });
  });
  return y;
}

Var relu(Tape& t, Var x) {
  const Tensor& X = x.value();
  require_cpu(X, "relu");
  Var y = t.output(X.shape(), X.dtype(), any_grad(x));
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::relu_forward<T>(X.numel(), X.data<T>(), y.value().data<T>());
  });
  t.record(y, [&t, x, y] {
    dispatch_float(x.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (GradTarget gx = t.grad_target(x))
        kc::relu_backward<T>(x.value().numel(), y.value().data<T>(), t.grad(y).data<T>(), gx.as<T>(),
                             gx.accumulate);
    });
  });
  return y;
}

Var add(Tape& t, Var a, Var b) {
  const Tensor& A = a.value();
  require_cpu(A, "add");
  require_same(A, b.value(), "add");
  BTS_CHECK(A.shape() == b.value().shape(), "add: shapes " << shape_str(A.shape()) << " and "
                                                           << shape_str(b.value().shape()));
  Var y = t.output(A.shape(), A.dtype(), any_grad(a, b));
  dispatch_float(A.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::add_forward<T>(A.numel(), A.data<T>(), b.value().data<T>(), y.value().data<T>());
  });
  t.record(y, [&t, a, b, y] {
    dispatch_float(a.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      const int64_t n = a.value().numel();
      if (GradTarget ga = t.grad_target(a)) kc::copy_grad<T>(n, t.grad(y).data<T>(), ga.as<T>(), ga.accumulate);
      if (GradTarget gb = t.grad_target(b)) kc::copy_grad<T>(n, t.grad(y).data<T>(), gb.as<T>(), gb.accumulate);
    });
  });
  return y;
}

Var global_avg_pool(Tape& t, Var x) {
  const Tensor& X = x.value();
  require_cpu(X, "global_avg_pool");
  BTS_CHECK(X.ndim() == 4, "global_avg_pool: input " << X.describe() << " is not NCHW");
  const int64_t N = X.dim(0), C = X.dim(1), HW = X.dim(2) * X.dim(3);
  Var y = t.output({N, C}, X.dtype(), any_grad(x));
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::global_avg_pool_forward<T>(N, C, HW, X.data<T>(), y.value().data<T>());
  });
  t.record(y, [&t, x, y, N, C, HW] {
    dispatch_float(x.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (GradTarget gx = t.grad_target(x))
        kc::global_avg_pool_backward<T>(N, C, HW, t.grad(y).data<T>(), gx.as<T>(), gx.accumulate);
    });
  });
  return y;
}

Var linear(Tape& t, Var x, Var w, Var b) {
  const Tensor& X = x.value();
  const Tensor& Wt = w.value();
  require_cpu(X, "linear");
  require_same(X, Wt, "linear");
  BTS_CHECK(X.ndim() == 2 && Wt.ndim() == 2 && X.dim(1) == Wt.dim(1) && b.value().numel() == Wt.dim(0),
            "linear: input " << X.describe() << ", weight " << Wt.describe() << ", bias " << b.value().describe());
  kc::LinearShape s{X.dim(0), X.dim(1), Wt.dim(0)};
  Var y = t.output({s.N, s.O}, X.dtype(), any_grad(x, w, b));
  const bool ref = g_cpu_algo == CpuAlgo::Reference;
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    (ref ? kc::linear_forward_ref<T> : kc::linear_forward_gemm<T>)(s, X.data<T>(), Wt.data<T>(),
                                                                   b.value().data<T>(), y.value().data<T>());
  });
  t.record(y, [&t, x, w, b, y, s, ref] {
    dispatch_float(x.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      GradTarget gx = t.grad_target(x);
      GradTarget gw = t.grad_target(w);
      GradTarget gb = t.grad_target(b);
      BTS_CHECK(gw.accumulate == gb.accumulate, "linear: weight and bias gradients out of step");
      T* dw = gw ? gw.as<T>() : t.scratch(w.value().shape(), x.value().dtype()).template data<T>();
      T* db = gb ? gb.as<T>() : t.scratch(b.value().shape(), x.value().dtype()).template data<T>();
      (ref ? kc::linear_backward_ref<T> : kc::linear_backward_gemm<T>)(
          s, x.value().data<T>(), w.value().data<T>(), t.grad(y).data<T>(), gx ? gx.as<T>() : nullptr, dw, db,
          gx.accumulate, gw.accumulate);
    });
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
  require_cpu(Z, "cross_entropy");
  BTS_CHECK(Z.ndim() == 2, "cross_entropy: logits " << Z.describe() << " are not [N, K]");
  const int64_t N = Z.dim(0), K = Z.dim(1);
  BTS_CHECK(tg.labels.dtype() == DType::I32 && tg.labels.ndim() == 2 && tg.labels.dim(0) == N,
            "cross_entropy: labels " << tg.labels.describe() << " for logits " << Z.describe());
  const int64_t M = tg.labels.dim(1);
  BTS_CHECK(tg.label_weights.numel() == N * M && tg.sample_weights.numel() == N &&
                tg.label_weights.dtype() == Z.dtype() && tg.sample_weights.dtype() == Z.dtype(),
            "cross_entropy: label weights " << tg.label_weights.describe() << " / sample weights "
                                            << tg.sample_weights.describe() << " for logits " << Z.describe());
  const int32_t* lab = tg.labels.data<int32_t>();
  for (int64_t i = 0; i < N * M; ++i)
    BTS_CHECK(lab[i] >= 0 && lab[i] < K, "cross_entropy: label " << lab[i] << " at " << i << " outside [0, " << K
                                                                  << ")");
  kc::CrossEntropyShape s{N, K, M};
  Var total = t.output({1}, Z.dtype(), any_grad(logits));
  Tensor& loss = t.scratch({N}, Z.dtype());
  Tensor& prob = t.scratch({N, M}, Z.dtype());
  dispatch_float(Z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    total.value().data<T>()[0] =
        kc::cross_entropy_forward<T>(s, Z.data<T>(), lab, tg.label_weights.data<T>(), tg.sample_weights.data<T>(),
                                     loss.data<T>(), prob.data<T>());
  });
  const Tensor* labels = &tg.labels;
  const Tensor* lw = &tg.label_weights;
  const Tensor* sw = &tg.sample_weights;
  t.record(total, [&t, logits, total, s, labels, lw, sw] {
    dispatch_float(logits.value().dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (GradTarget gz = t.grad_target(logits))
        kc::cross_entropy_backward<T>(s, logits.value().data<T>(), labels->data<int32_t>(), lw->data<T>(),
                                      sw->data<T>(), t.grad(total).data<T>()[0], gz.as<T>(), gz.accumulate);
    });
  });
  return {total, &loss, &prob};
}

}  // namespace bts
