#include "engine/ops.h"

#include "engine/dispatch.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"

#ifdef BTS_WITH_CUDA
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#define BTS_ON_CUDA(...) __VA_ARGS__
#else
#define BTS_ON_CUDA(...) BTS_FAIL("this build has no CUDA backend (configure where nvcc is found)")
#endif

namespace bts {

namespace kc = kernels::cpu;
#ifdef BTS_WITH_CUDA
namespace kg = kernels::cuda;
namespace {
kg::Context& ctx() { return kg::current_context(); }
cudaStream_t stream() { return ctx().stream(); }
// cuDNN workspace from the tape's arena: no cudaMalloc inside a step once the arena has grown.
void* workspace(Tape& t, size_t bytes) { return bytes ? t.arena().allocate(bytes) : nullptr; }
}  // namespace
#endif

namespace {
CpuAlgo g_cpu_algo = CpuAlgo::Gemm;

// True when the op runs on the GPU (fp32 only there).
bool on_cuda(const Tensor& x, const char* op) {
  if (x.device() == Device::CPU) return false;
  BTS_CHECK(x.dtype() == DType::F32, op << ": the CUDA backend computes in f32, got " << x.describe());
  return true;
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
  const bool gpu = on_cuda(X, "conv2d");
  require_same(X, Wt, "conv2d");
  BTS_CHECK(X.ndim() == 4 && Wt.ndim() == 4 && X.dim(1) == Wt.dim(1),
            "conv2d: input " << X.describe() << " does not match weight " << Wt.describe());
  BTS_CHECK(stride >= 1 && pad >= 0, "conv2d: stride " << stride << ", pad " << pad);
  kernels::ConvShape s{X.dim(0), X.dim(1), X.dim(2), X.dim(3), Wt.dim(0), Wt.dim(2), Wt.dim(3), stride, pad};
  BTS_CHECK(s.P() >= 1 && s.Q() >= 1, "conv2d: input " << shape_str(X.shape()) << " too small for kernel "
                                                       << s.R << "x" << s.S);
  Var y = t.output({s.N, s.K, s.P(), s.Q()}, X.dtype(), any_grad(x, w));
  if (gpu) {
    BTS_ON_CUDA(const size_t ws = kg::conv2d_workspace_bytes(ctx(), s, kg::ConvPass::Forward);
                kg::conv2d_forward(ctx(), s, X.data<float>(), Wt.data<float>(), y.value().data<float>(),
                                   workspace(t, ws), ws));
    t.record(y, [&t, x, w, y, s] {
      BTS_ON_CUDA(
          const float* dy = t.grad(y).data<float>();
          if (GradTarget gw = t.grad_target(w)) {
            const size_t ws = kg::conv2d_workspace_bytes(ctx(), s, kg::ConvPass::BackwardFilter);
            kg::conv2d_backward_filter(ctx(), s, x.value().data<float>(), dy, gw.as<float>(), gw.accumulate,
                                       workspace(t, ws), ws);
          } if (GradTarget gx = t.grad_target(x)) {
            const size_t ws = kg::conv2d_workspace_bytes(ctx(), s, kg::ConvPass::BackwardData);
            kg::conv2d_backward_data(ctx(), s, dy, w.value().data<float>(), gx.as<float>(), gx.accumulate,
                                     workspace(t, ws), ws);
          });
    });
    return y;
  }
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
  const bool gpu = on_cuda(X, "batchnorm2d");
  require_same(X, gamma.value(), "batchnorm2d");
  require_same(X, beta.value(), "batchnorm2d");
  require_same(X, running_mean, "batchnorm2d");
  require_same(X, running_var, "batchnorm2d");
  BTS_CHECK(X.ndim() == 4 && gamma.value().numel() == X.dim(1) && beta.value().numel() == X.dim(1) &&
                running_mean.numel() == X.dim(1) && running_var.numel() == X.dim(1),
            "batchnorm2d: input " << X.describe() << " vs " << gamma.value().numel() << " channels");
  kc::BatchNormShape s{X.dim(0), X.dim(1), X.dim(2) * X.dim(3)};
  if (!training) {
    Var y = t.output(X.shape(), X.dtype(), false);
    if (gpu) {
      BTS_ON_CUDA(kg::batchnorm_forward_eval(stream(), {s.N, s.C, s.HW}, X.data<float>(), gamma.value().data<float>(),
                                             beta.value().data<float>(), static_cast<float>(eps),
                                             running_mean.data<float>(), running_var.data<float>(),
                                             y.value().data<float>()));
      return y;
    }
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
  Tensor* pm = &mean;
  Tensor* pi = &invstd;
  if (gpu) {
    BTS_ON_CUDA(kg::batchnorm_forward_train(stream(), {s.N, s.C, s.HW}, X.data<float>(), gamma.value().data<float>(),
                                            beta.value().data<float>(), static_cast<float>(eps),
                                            static_cast<float>(momentum), y.value().data<float>(), mean.data<float>(),
                                            invstd.data<float>(), running_mean.data<float>(),
                                            running_var.data<float>()));
    t.record(y, [&t, x, gamma, beta, y, s, pm, pi] {
      BTS_ON_CUDA(
          GradTarget gg = t.grad_target(gamma); GradTarget gb = t.grad_target(beta);
          GradTarget gx = t.grad_target(x);
          BTS_CHECK(gg.accumulate == gb.accumulate, "batchnorm2d: gamma and beta gradients out of step");
          const DType f = DType::F32;
          float* dgamma = gg ? gg.as<float>() : t.scratch({s.C}, f).data<float>();
          float* dbeta = gb ? gb.as<float>() : t.scratch({s.C}, f).data<float>();
          float* dx = gx ? gx.as<float>() : t.scratch(x.value().shape(), f).data<float>();
          kg::batchnorm_backward(stream(), {s.N, s.C, s.HW}, x.value().data<float>(), t.grad(y).data<float>(),
                                 gamma.value().data<float>(), pm->data<float>(), pi->data<float>(), dx, dgamma,
                                 dbeta, gx.accumulate, gg.accumulate, t.scratch({2 * s.C}, DType::F64).data<double>()));
    });
    return y;
  }
  dispatch_float(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::batchnorm_forward_train<T>(s, X.data<T>(), gamma.value().data<T>(), beta.value().data<T>(), T(eps),
                                   T(momentum), y.value().data<T>(), mean.data<T>(), invstd.data<T>(),
                                   running_mean.data<T>(), running_var.data<T>());
  });
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
  Var y = t.output(X.shape(), X.dtype(), any_grad(x));
  if (on_cuda(X, "relu")) {
    BTS_ON_CUDA(kg::relu_forward(stream(), X.numel(), X.data<float>(), y.value().data<float>()));
    t.record(y, [&t, x, y] {
      BTS_ON_CUDA(if (GradTarget gx = t.grad_target(x)) kg::relu_backward(
                      stream(), x.value().numel(), y.value().data<float>(), t.grad(y).data<float>(), gx.as<float>(),
                      gx.accumulate));
    });
    return y;
  }
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
  require_same(A, b.value(), "add");
  BTS_CHECK(A.shape() == b.value().shape(), "add: shapes " << shape_str(A.shape()) << " and "
                                                           << shape_str(b.value().shape()));
  Var y = t.output(A.shape(), A.dtype(), any_grad(a, b));
  if (on_cuda(A, "add")) {
    BTS_ON_CUDA(kg::add_forward(stream(), A.numel(), A.data<float>(), b.value().data<float>(), y.value().data<float>()));
    t.record(y, [&t, a, b, y] {
      BTS_ON_CUDA(const int64_t n = a.value().numel(); const float* dy = t.grad(y).data<float>();
                  if (GradTarget ga = t.grad_target(a)) kg::copy_grad(stream(), n, dy, ga.as<float>(), ga.accumulate);
                  if (GradTarget gb = t.grad_target(b)) kg::copy_grad(stream(), n, dy, gb.as<float>(), gb.accumulate));
    });
    return y;
  }
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
  BTS_CHECK(X.ndim() == 4, "global_avg_pool: input " << X.describe() << " is not NCHW");
  const int64_t N = X.dim(0), C = X.dim(1), HW = X.dim(2) * X.dim(3);
  Var y = t.output({N, C}, X.dtype(), any_grad(x));
  if (on_cuda(X, "global_avg_pool")) {
    BTS_ON_CUDA(kg::global_avg_pool_forward(stream(), N, C, HW, X.data<float>(), y.value().data<float>()));
    t.record(y, [&t, x, y, N, C, HW] {
      BTS_ON_CUDA(if (GradTarget gx = t.grad_target(x)) kg::global_avg_pool_backward(
                      stream(), N, C, HW, t.grad(y).data<float>(), gx.as<float>(), gx.accumulate));
    });
    return y;
  }
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
  const bool gpu = on_cuda(X, "linear");
  require_same(X, Wt, "linear");
  require_same(X, b.value(), "linear");
  BTS_CHECK(X.ndim() == 2 && Wt.ndim() == 2 && X.dim(1) == Wt.dim(1) && b.value().numel() == Wt.dim(0),
            "linear: input " << X.describe() << ", weight " << Wt.describe() << ", bias " << b.value().describe());
  kc::LinearShape s{X.dim(0), X.dim(1), Wt.dim(0)};
  Var y = t.output({s.N, s.O}, X.dtype(), any_grad(x, w, b));
  if (gpu) {
    BTS_ON_CUDA(kg::linear_forward(ctx(), {s.N, s.I, s.O}, X.data<float>(), Wt.data<float>(), b.value().data<float>(),
                                   y.value().data<float>()));
    t.record(y, [&t, x, w, b, y, s] {
      BTS_ON_CUDA(
          GradTarget gx = t.grad_target(x); GradTarget gw = t.grad_target(w); GradTarget gb = t.grad_target(b);
          BTS_CHECK(gw.accumulate == gb.accumulate, "linear: weight and bias gradients out of step");
          float* dw = gw ? gw.as<float>() : t.scratch(w.value().shape(), DType::F32).data<float>();
          float* db = gb ? gb.as<float>() : t.scratch(b.value().shape(), DType::F32).data<float>();
          kg::linear_backward(ctx(), {s.N, s.I, s.O}, x.value().data<float>(), w.value().data<float>(),
                              t.grad(y).data<float>(), gx ? gx.as<float>() : nullptr, dw, db, gx.accumulate,
                              gw.accumulate));
    });
    return y;
  }
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
  const bool gpu = on_cuda(Z, "cross_entropy");
  BTS_CHECK(Z.ndim() == 2, "cross_entropy: logits " << Z.describe() << " are not [N, K]");
  const int64_t N = Z.dim(0), K = Z.dim(1);
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
  const int32_t* lab = tg.labels.data<int32_t>();
  Var total = t.output({1}, Z.dtype(), any_grad(logits));
  Tensor& loss = t.scratch({N}, Z.dtype());
  Tensor& prob = t.scratch({N, M}, Z.dtype());
  const Tensor* labels = &tg.labels;
  const Tensor* lw = &tg.label_weights;
  const Tensor* sw = &tg.sample_weights;
  if (gpu) {
    // Labels are validated where they are made (data readers, mixing); here an out-of-range one gives NaN.
    Tensor& lse = t.scratch({N}, DType::F32);
    Tensor* plse = &lse;
    BTS_ON_CUDA(kg::cross_entropy_forward(stream(), {N, K, M}, Z.data<float>(), lab, lw->data<float>(),
                                          sw->data<float>(), loss.data<float>(), prob.data<float>(), lse.data<float>(),
                                          total.value().data<float>()));
    t.record(total, [&t, logits, total, N, K, M, labels, lw, sw, plse] {
      BTS_ON_CUDA(if (GradTarget gz = t.grad_target(logits)) kg::cross_entropy_backward(
                      stream(), {N, K, M}, logits.value().data<float>(), labels->data<int32_t>(), lw->data<float>(),
                      sw->data<float>(), plse->data<float>(), t.grad(total).data<float>(), gz.as<float>(),
                      gz.accumulate));
    });
    return {total, &loss, &prob};
  }
  for (int64_t i = 0; i < N * M; ++i)
    BTS_CHECK(lab[i] >= 0 && lab[i] < K, "cross_entropy: label " << lab[i] << " at " << i << " outside [0, " << K
                                                                  << ")");
  kc::CrossEntropyShape s{N, K, M};
  dispatch_float(Z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    total.value().data<T>()[0] =
        kc::cross_entropy_forward<T>(s, Z.data<T>(), lab, tg.label_weights.data<T>(), tg.sample_weights.data<T>(),
                                     loss.data<T>(), prob.data<T>());
  });
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
