// The CPU backend's differentiable ops and SGD step: the reference loops, im2col + GEMM or oneDNN (set_cpu_algo), in
// the tensors' dtype (f32, or f64 for the gradient checks; oneDNN is f32 only, so f64 takes GEMM).
#include <cstring>
#include <type_traits>

#include "engine/arena.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_dnnl.h"
#include "kernels/cpu/convert.h"
#include "kernels/cpu/relayout.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/sgd.h"

namespace bts {

namespace kc = kernels::cpu;

namespace {
CpuAlgo g_cpu_algo = CpuAlgo::Fast;
bool reference() { return g_cpu_algo == CpuAlgo::Reference; }
// oneDNN takes the f32 convolutions in the fast mode when the build has it.
template <typename T>
bool use_dnnl() {
  return std::is_same_v<T, float> && g_cpu_algo == CpuAlgo::Fast && kc::dnnl_available();
}

// A step-lifetime tensor for outputs nobody asked for (the kernels always write all of theirs).
template <typename T>
T* scratch_of(Arena& arena, int64_t n) {
  return static_cast<T*>(arena.allocate(static_cast<size_t>(n) * sizeof(T)));
}

kc::BatchNormShape bn_shape(const Tensor& x) { return {x.dim(0), x.dim(1), x.dim(2) * x.dim(3)}; }

kc::DnnlAct dnnl_act(Layout l) {
  return l == Layout::NHWC ? kc::DnnlAct::nhwc : l == Layout::NCHW16C ? kc::DnnlAct::blocked16 : kc::DnnlAct::nchw;
}
kc::DnnlLayouts layouts(Layout x, Layout y) { return {dnnl_act(x), dnnl_act(y)}; }

// The reference and GEMM kernels read and write NCHW only; NHWC reaches them only if the algorithm was switched
// between a forward and its backward.
void require_nchw(Layout a, Layout b, const char* op) {
  BTS_CHECK(a == Layout::NCHW && b == Layout::NCHW,
            op << ": channels-last tensors need the default CPU algorithm (oneDNN), not " << cpu_algo_name(g_cpu_algo));
}
bool nhwc(const Tensor& t) { return t.layout() == Layout::NHWC; }
bool blocked16(const Tensor& t) { return t.layout() == Layout::NCHW16C; }
// f32 with channels innermost (NHWC, nChw16c): the row kernels of batchnorm_rows.cpp, with or without a ReLU after.
bool channels_inner_f32(const Tensor& t) { return t.dtype() == DType::F32 && (nhwc(t) || blocked16(t)); }

void batchnorm_train_rows(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, double momentum,
                          Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                          Tensor& running_var, bool relu) {
  (nhwc(x) ? kc::batchnorm_forward_train_nhwc : kc::batchnorm_forward_train_blocked16)(
      bn_shape(x), x.data<float>(), gamma.data<float>(), beta.data<float>(), float(eps), float(momentum),
      y.data<float>(), save_mean.data<float>(), save_invstd.data<float>(), running_mean.data<float>(),
      running_var.data<float>(), relu);
}

// relu_y: the ReLU's output when one follows (dy is then its gradient), else null.
void batchnorm_backward_rows(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                             const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                             Arena& scratch, const float* relu_y) {
  const kc::BatchNormShape s = bn_shape(x);
  float* pgamma = dgamma ? dgamma.as<float>() : scratch_of<float>(scratch, s.C);
  float* pbeta = dbeta ? dbeta.as<float>() : scratch_of<float>(scratch, s.C);
  float* px = dx ? dx.as<float>() : scratch_of<float>(scratch, x.numel());
  (nhwc(x) ? kc::batchnorm_backward_nhwc : kc::batchnorm_backward_blocked16)(
      s, x.data<float>(), dy.data<float>(), gamma.data<float>(), save_mean.data<float>(), save_invstd.data<float>(),
      px, pgamma, pbeta, dx.accumulate, dgamma.accumulate, relu_y);
}
}  // namespace

// Chosen by measurement (docs/PERFORMANCE.md): oneDNN's nChw16c kernels beat its NHWC ones by 10-40% per
// convolution on AVX-512, and either beats reordering NCHW around every call.
Layout CpuBackend::activation_layout(DType dtype, int64_t channels) const {
  if (dtype != DType::F32 || !use_dnnl<float>()) return Layout::NCHW;
  return channels % 16 == 0 && kc::dnnl_blocked16_native() ? Layout::NCHW16C : Layout::NHWC;
}

void set_cpu_algo(CpuAlgo algo) { g_cpu_algo = algo; }
const char* cpu_algo_name(CpuAlgo algo) {
  switch (algo) {
    case CpuAlgo::Reference: return "reference";
    case CpuAlgo::Gemm: return "gemm";
    case CpuAlgo::Fast: return kc::dnnl_available() ? "fast (oneDNN)" : "fast (gemm, no oneDNN)";
  }
  return "?";
}
CpuAlgo cpu_algo() { return g_cpu_algo; }

void CpuBackend::conv2d_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, Tensor& y, Arena&) {
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>)
      if (use_dnnl<T>())
        return kc::conv2d_forward_dnnl(s, layouts(x.layout(), y.layout()), x.data<T>(), w.data<T>(), y.data<T>());
    require_nchw(x.layout(), y.layout(), "conv2d forward");
    (reference() ? kc::conv2d_forward_ref<T> : kc::conv2d_forward_gemm<T>)(s, x.data<T>(), w.data<T>(), y.data<T>());
  });
}

void CpuBackend::conv2d_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, GradTarget dx,
                                      Arena&) {
  dispatch_float(dy.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>)
      if (use_dnnl<T>())
        return kc::conv2d_backward_data_dnnl(s, layouts(dx.layout, dy.layout()), dy.data<T>(), w.data<T>(), dx.as<T>(),
                                             dx.accumulate);
    require_nchw(dx.layout, dy.layout(), "conv2d backward data");
    (reference() ? kc::conv2d_backward_data_ref<T> : kc::conv2d_backward_data_gemm<T>)(s, dy.data<T>(), w.data<T>(),
                                                                                         dx.as<T>(), dx.accumulate);
  });
}

void CpuBackend::conv2d_backward_filter(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy, GradTarget dw,
                                        Arena&) {
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>)
      if (use_dnnl<T>())
        return kc::conv2d_backward_filter_dnnl(s, layouts(x.layout(), dy.layout()), x.data<T>(), dy.data<T>(),
                                               dw.as<T>(), dw.accumulate);
    require_nchw(x.layout(), dy.layout(), "conv2d backward filter");
    (reference() ? kc::conv2d_backward_filter_ref<T> : kc::conv2d_backward_filter_gemm<T>)(
        s, x.data<T>(), dy.data<T>(), dw.as<T>(), dw.accumulate);
  });
}

void CpuBackend::batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                         double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                         Tensor& running_mean, Tensor& running_var, Arena& /*scratch*/) {
  if (channels_inner_f32(x))
    return batchnorm_train_rows(x, gamma, beta, eps, momentum, y, save_mean, save_invstd, running_mean, running_var,
                                false);
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    require_nchw(x.layout(), y.layout(), "batchnorm forward");
    if constexpr (std::is_same_v<T, float>)
      if (!reference())
        return kc::batchnorm_forward_train_fast(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps),
                                                T(momentum), y.data<T>(), save_mean.data<T>(), save_invstd.data<T>(),
                                                running_mean.data<T>(), running_var.data<T>());
    kc::batchnorm_forward_train<T>(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps), T(momentum),
                                   y.data<T>(), save_mean.data<T>(), save_invstd.data<T>(), running_mean.data<T>(),
                                   running_var.data<T>());
  });
}

void CpuBackend::batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                        const Tensor& running_mean, const Tensor& running_var, Tensor& y) {
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>)
      if (blocked16(x))
        return kc::batchnorm_forward_eval_blocked16(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps),
                                                    running_mean.data<T>(), running_var.data<T>(), y.data<T>());
    if constexpr (std::is_same_v<T, float>)
      if (nhwc(x))
        return kc::batchnorm_forward_eval_nhwc(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps),
                                               running_mean.data<T>(), running_var.data<T>(), y.data<T>());
    require_nchw(x.layout(), y.layout(), "batchnorm forward");
    if constexpr (std::is_same_v<T, float>)
      if (!reference())
        return kc::batchnorm_forward_eval_fast(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps),
                                               running_mean.data<T>(), running_var.data<T>(), y.data<T>());
    kc::batchnorm_forward_eval<T>(bn_shape(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), T(eps),
                                  running_mean.data<T>(), running_var.data<T>(), y.data<T>());
  });
}

void CpuBackend::batchnorm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                                    const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                                    Arena& scratch) {
  if (channels_inner_f32(x))
    return batchnorm_backward_rows(x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch, nullptr);
  const kc::BatchNormShape s = bn_shape(x);
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* pgamma = dgamma ? dgamma.as<T>() : scratch_of<T>(scratch, s.C);
    T* pbeta = dbeta ? dbeta.as<T>() : scratch_of<T>(scratch, s.C);
    T* px = dx ? dx.as<T>() : scratch_of<T>(scratch, x.numel());
    require_nchw(x.layout(), dy.layout(), "batchnorm backward");
    if constexpr (std::is_same_v<T, float>)
      if (!reference())
        return kc::batchnorm_backward_fast(s, x.data<T>(), dy.data<T>(), gamma.data<T>(), save_mean.data<T>(),
                                           save_invstd.data<T>(), px, pgamma, pbeta, dx.accumulate,
                                           dgamma.accumulate);
    kc::batchnorm_backward<T>(s, x.data<T>(), dy.data<T>(), gamma.data<T>(), save_mean.data<T>(),
                              save_invstd.data<T>(), px, pgamma, pbeta, dx.accumulate, dgamma.accumulate);
  });
}

void CpuBackend::batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                              double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                              Tensor& running_mean, Tensor& running_var, Arena& scratch) {
  if (!channels_inner_f32(x))
    return Backend::batchnorm_relu_forward_train(x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                                                 running_mean, running_var, scratch);
  batchnorm_train_rows(x, gamma, beta, eps, momentum, y, save_mean, save_invstd, running_mean, running_var, true);
}

void CpuBackend::batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                         const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                         GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  if (!channels_inner_f32(x))
    return Backend::batchnorm_relu_backward(x, y, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
  batchnorm_backward_rows(x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch, y.data<float>());
}

void CpuBackend::relu_forward(const Tensor& x, Tensor& y) {
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::relu_forward<T>(x.numel(), x.data<T>(), y.data<T>());
  });
}

void CpuBackend::relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) {
  dispatch_float(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::relu_backward<T>(y.numel(), y.data<T>(), dy.data<T>(), dx.as<T>(), dx.accumulate);
  });
}

void CpuBackend::add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  dispatch_float(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::add_forward<T>(a.numel(), a.data<T>(), b.data<T>(), y.data<T>());
  });
}

void CpuBackend::add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  dispatch_float(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::add_relu_forward<T>(a.numel(), a.data<T>(), b.data<T>(), y.data<T>());
  });
}

void CpuBackend::add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db, Arena&) {
  dispatch_float(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::add_relu_backward<T>(y.numel(), y.data<T>(), dy.data<T>(), da ? da.as<T>() : nullptr, da.accumulate,
                             db ? db.as<T>() : nullptr, db.accumulate);
  });
}

void CpuBackend::copy_grad(const Tensor& dy, GradTarget dx) {
  dispatch_float(dy.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::copy_grad<T>(dy.numel(), dy.data<T>(), dx.as<T>(), dx.accumulate);
  });
}

void CpuBackend::convert(const Tensor& src, DType dst_dtype, GradTarget dst) {
  if (src.layout() != dst.layout) {  // moved and converted in one pass
    BTS_CHECK(src.ndim() == 4, "convert: " << src.describe() << " to layout " << layout_name(dst.layout));
    const auto order = memory_order;
    const int64_t N = src.dim(0), C = src.dim(1), HW = src.dim(2) * src.dim(3);
    if (src.dtype() == DType::F32 && dst_dtype == DType::BF16)
      return kc::relayout_convert(order(src.layout()), order(dst.layout), N, C, HW, src.data<float>(),
                                  dst.as<uint16_t>(), dst.accumulate);
    if (src.dtype() == DType::BF16 && dst_dtype == DType::F32)
      return kc::relayout_convert(order(src.layout()), order(dst.layout), N, C, HW,
                                  reinterpret_cast<const uint16_t*>(src.data<BFloat16>()), dst.as<float>(),
                                  dst.accumulate);
    BTS_FAIL("convert: " << dtype_name(src.dtype()) << " to " << dtype_name(dst_dtype) << " is not supported");
  }
  if (src.dtype() == DType::F32 && dst_dtype == DType::BF16)
    kc::convert_f32_to_bf16(src.numel(), src.data<float>(), dst.as<uint16_t>(), dst.accumulate);
  else if (src.dtype() == DType::BF16 && dst_dtype == DType::F32)
    kc::convert_bf16_to_f32(src.numel(), reinterpret_cast<const uint16_t*>(src.data<BFloat16>()), dst.as<float>(),
                            dst.accumulate);
  else
    BTS_FAIL("convert: " << dtype_name(src.dtype()) << " to " << dtype_name(dst_dtype) << " is not supported");
}

void CpuBackend::relayout(const Tensor& src, GradTarget dst) {
  const auto order = memory_order;
  const int64_t N = src.dim(0), C = src.dim(1), HW = src.dim(2) * src.dim(3);
  switch (src.dtype()) {
    case DType::F32:
      return kc::relayout(order(src.layout()), order(dst.layout), N, C, HW, src.data<float>(), dst.as<float>(),
                          dst.accumulate);
    case DType::F64:
      return kc::relayout(order(src.layout()), order(dst.layout), N, C, HW, src.data<double>(), dst.as<double>(),
                          dst.accumulate);
    case DType::BF16:
      return kc::relayout(order(src.layout()), order(dst.layout), N, C, HW,
                          reinterpret_cast<const uint16_t*>(src.data<BFloat16>()), dst.as<uint16_t>(),
                          dst.accumulate);
    default: BTS_FAIL("relayout: " << src.describe() << " (f32, f64 or bf16)");
  }
}

void CpuBackend::global_avg_pool_forward(const Tensor& x, Tensor& y) {
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    (nhwc(x)        ? kc::global_avg_pool_forward_nhwc<T>
     : blocked16(x) ? kc::global_avg_pool_forward_blocked16<T>
                    : kc::global_avg_pool_forward<T>)(x.dim(0), x.dim(1), x.dim(2) * x.dim(3), x.data<T>(), y.data<T>());
  });
}

void CpuBackend::global_avg_pool_backward(const Tensor& dy, int64_t hw, GradTarget dx) {
  dispatch_float(dy.dtype(), [&](auto tag) {
    using T = decltype(tag);
    (dx.layout == Layout::NHWC      ? kc::global_avg_pool_backward_nhwc<T>
     : dx.layout == Layout::NCHW16C ? kc::global_avg_pool_backward_blocked16<T>
                                    : kc::global_avg_pool_backward<T>)(dy.dim(0), dy.dim(1), hw, dy.data<T>(),
                                                                        dx.as<T>(), dx.accumulate);
  });
}

void CpuBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  const kc::LinearShape s{x.dim(0), x.dim(1), w.dim(0)};
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    (reference() ? kc::linear_forward_ref<T> : kc::linear_forward_gemm<T>)(s, x.data<T>(), w.data<T>(), b.data<T>(),
                                                                           y.data<T>());
  });
}

void CpuBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, GradTarget dx, GradTarget dw,
                                 GradTarget db, Arena& scratch) {
  const kc::LinearShape s{x.dim(0), x.dim(1), w.dim(0)};
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* pw = dw ? dw.as<T>() : scratch_of<T>(scratch, w.numel());
    T* pb = db ? db.as<T>() : scratch_of<T>(scratch, s.O);
    (reference() ? kc::linear_backward_ref<T> : kc::linear_backward_gemm<T>)(
        s, x.data<T>(), w.data<T>(), dy.data<T>(), dx ? dx.as<T>() : nullptr, pw, pb, dx.accumulate, dw.accumulate);
  });
}

void CpuBackend::cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                       const Tensor& sample_weights, Tensor& loss_per_sample, Tensor& prob_per_target,
                                       Tensor&, Tensor& total) {
  const kc::CrossEntropyShape s{logits.dim(0), logits.dim(1), labels.dim(1)};
  const int32_t* lab = labels.data<int32_t>();
  for (int64_t i = 0; i < s.N * s.M; ++i)
    BTS_CHECK(lab[i] >= 0 && lab[i] < s.K, "cross_entropy: label " << lab[i] << " at " << i << " outside [0, " << s.K
                                                                    << ")");
  dispatch_float(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    total.data<T>()[0] = kc::cross_entropy_forward<T>(s, logits.data<T>(), lab, label_weights.data<T>(),
                                                      sample_weights.data<T>(), loss_per_sample.data<T>(),
                                                      prob_per_target.data<T>());
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                        const Tensor& sample_weights, const Tensor&, const Tensor& dtotal,
                                        GradTarget dlogits) {
  const kc::CrossEntropyShape s{logits.dim(0), logits.dim(1), labels.dim(1)};
  dispatch_float(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::cross_entropy_backward<T>(s, logits.data<T>(), labels.data<int32_t>(), label_weights.data<T>(),
                                  sample_weights.data<T>(), dtotal.data<T>()[0], dlogits.as<T>(), dlogits.accumulate);
  });
}

void CpuBackend::sgd_step(Tensor& w, const Tensor& g, Tensor& momentum, const Tensor& lr,
                          const kernels::SgdHyper& h) {
  dispatch_float(w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    kc::sgd_step<T>(w.numel(), w.data<T>(), g.data<T>(), momentum.data<T>(), lr.data<double>(), h);
  });
}

void CpuBackend::write_bytes(void* dst, const void* src, size_t bytes) {
  BTS_CHECK(bytes <= kernels::kMaxStreamWriteBytes, "write_bytes: " << bytes << " bytes, at most "
                                                                    << kernels::kMaxStreamWriteBytes);
  std::memcpy(dst, src, bytes);
}

}  // namespace bts
