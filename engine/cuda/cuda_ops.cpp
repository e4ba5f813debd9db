// The CUDA backend's differentiable ops and SGD step: cuDNN convolutions (one grow-only workspace per backend, so
// a warm step allocates nothing), cuBLAS for the linear layer, custom kernels for the rest. Activations are f32,
// or bf16 with the ops' own bf16 kernels (native_bf16: convolution, BatchNorm, ReLU, adds, pooling and layout
// moves read and write bf16 and compute in fp32; linear and the loss run in f32 between casts, engine/ops.cpp).
// bf16 activations are stored channels last (NHWC), the layout cuDNN's bf16 tensor-core kernels read directly.
#include <type_traits>

#include "engine/arena.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/steady_state.h"
#include "engine/tensor.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/cudnn_batchnorm.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#include "kernels/cuda/relayout.h"
#include "kernels/cuda/stream_write.h"
#include "kernels/cuda/sgd.h"

namespace bts {

namespace kg = kernels::cuda;

namespace {
kg::Context& ctx() { return kg::current_context(); }
cudaStream_t cu_stream() { return ctx().stream(); }

const float* f32(const Tensor& t) {
  BTS_CHECK(t.dtype() == DType::F32, "the CUDA backend wants f32 here, got " << t.describe());
  return t.data<float>();
}
float* f32(Tensor& t) { return const_cast<float*>(f32(static_cast<const Tensor&>(t))); }

// The elements of an activation or gradient as the kernels take them: float, or bf16 bits (uint16_t).
template <typename T>
T* elems(const Tensor& t) {
  if constexpr (std::is_same_v<T, float>) {
    BTS_CHECK(t.dtype() == DType::F32, "expected f32, got " << t.describe());
    return const_cast<float*>(t.data<float>());
  } else {
    BTS_CHECK(t.dtype() == DType::BF16, "expected bf16, got " << t.describe());
    return reinterpret_cast<uint16_t*>(const_cast<BFloat16*>(t.data<BFloat16>()));
  }
}
// Calls f(float{}) or f(uint16_t{}) for an f32 or bf16 tensor.
template <typename F>
void on_elements(const Tensor& t, F&& f) {
  if (t.dtype() == DType::F32) return f(float{});
  BTS_CHECK(t.dtype() == DType::BF16, "the CUDA backend computes in f32 or bf16, got " << t.describe());
  f(uint16_t{});
}

// The GPU stores activations NCHW or NHWC only (nChw16c is the CPU's).
bool channels_last(Layout l) {
  BTS_CHECK(l != Layout::NCHW16C, "the CUDA backend stores NCHW or NHWC activations, got nChw16c");
  return l == Layout::NHWC;
}

template <typename T>
T* scratch_elems(Arena& arena, int64_t n) {
  return static_cast<T*>(arena.allocate(static_cast<size_t>(n) * sizeof(T)));
}
kg::BatchNormShape bn_shape(const Tensor& x) {
  kg::BatchNormShape s{x.dim(0), x.dim(1), x.dim(2) * x.dim(3)};
  s.channels_last = channels_last(x.layout());
  return s;
}
size_t bn_scratch_bytes(const kg::BatchNormShape& s) { return kg::batchnorm_scratch_doubles(s) * sizeof(double); }

// A convolution's element type and layout, from its operands (engine/ops.cpp brings all three to one layout).
kernels::ConvData conv_data(const Tensor& a, const Tensor& b, Layout third) {
  BTS_CHECK(a.dtype() == b.dtype() && (a.dtype() == DType::F32 || a.dtype() == DType::BF16),
            "conv2d on the GPU: operands " << a.describe() << " and " << b.describe() << " (f32 or bf16, alike)");
  BTS_CHECK(a.layout() == b.layout() && a.layout() == third,
            "conv2d on the GPU: operands in one layout, got " << a.describe() << ", " << b.describe() << " and "
                                                              << layout_name(third));
  return {a.dtype() == DType::BF16, channels_last(a.layout())};
}

// A convolution pass's workspace size, which makes the shape's plan on first use: a warmed-up step must not (a plan
// means descriptors and an algorithm search, in measured mode device allocations and a wait): the guard hears of it
// before the plan is made, so inside a recording it throws naming the plan instead of a capture failing on the
// plan's allocations.
size_t planned_workspace(const kernels::ConvShape& s, kg::ConvPass pass, kernels::ConvData data) {
  if (!kg::conv2d_has_plan(ctx(), s, data))
    steady_state::note_allocation(Device::CUDA, 0, "a new cuDNN convolution plan (descriptors and algorithm search)");
  return kg::conv2d_workspace_bytes(ctx(), s, pass, data);
}
}  // namespace

Layout CudaBackend::activation_layout(DType dtype, int64_t /*channels*/) const {
  if (dtype == DType::BF16) return native_bf16_ ? Layout::NHWC : Layout::NCHW;
  return f32_channels_last_ ? Layout::NHWC : Layout::NCHW;
}

void CudaBackend::relayout(const Tensor& src, GradTarget dst) {
  on_elements(src, [&](auto tag) {
    using T = decltype(tag);
    kg::relayout(cu_stream(), memory_order(src.layout()), memory_order(dst.layout), src.dim(0), src.dim(1),
                 src.dim(2) * src.dim(3), elems<T>(src), dst.as<T>(), dst.accumulate);
  });
}

void CudaBackend::conv2d_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, Tensor& y,
                                 Arena& /*scratch*/) {
  const kernels::ConvData data = conv_data(x, w, y.layout());
  const size_t ws = planned_workspace(s, kg::ConvPass::Forward, data);
  kg::conv2d_forward(ctx(), s, data, x.raw(), w.raw(), y.raw(), conv_workspace(ws), ws);
}

void CudaBackend::conv2d_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, GradTarget dx,
                                       Arena& /*scratch*/) {
  const kernels::ConvData data = conv_data(dy, w, dx.layout);
  const size_t ws = planned_workspace(s, kg::ConvPass::BackwardData, data);
  kg::conv2d_backward_data(ctx(), s, data, dy.raw(), w.raw(), dx.ptr, dx.accumulate, conv_workspace(ws), ws);
}

void CudaBackend::conv2d_backward_filter(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy,
                                         GradTarget dw, Arena& /*scratch*/) {
  const kernels::ConvData data = conv_data(x, dy, dw.layout);
  const size_t ws = planned_workspace(s, kg::ConvPass::BackwardFilter, data);
  kg::conv2d_backward_filter(ctx(), s, data, x.raw(), dy.raw(), dw.ptr, dw.accumulate, conv_workspace(ws), ws);
}

namespace {
// BatchNorm's training forward, with the ReLU after it fused when `relu`. The scratch is reused: the statistics
// kernels write it and the apply kernel reads it, in stream order, before any later BatchNorm can overwrite it.
void bn_forward_train(void* stats_scratch, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                      double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                      Tensor& running_var, bool relu, const Tensor* z = nullptr) {
  const kg::BatchNormShape s = bn_shape(x);
  on_elements(x, [&](auto tag) {
    using T = decltype(tag);
    kg::batchnorm_forward_train(cu_stream(), s, elems<T>(x), f32(gamma), f32(beta), static_cast<float>(eps),
                                static_cast<float>(momentum), elems<T>(y), f32(save_mean), f32(save_invstd),
                                f32(running_mean), f32(running_var), static_cast<double*>(stats_scratch), relu,
                                z ? static_cast<const T*>(elems<T>(*z)) : nullptr);
  });
}
}  // namespace

// batchnorm: cudnn (kernels/cuda/cudnn_batchnorm.h) takes the channels-last training BatchNorms; the rest are ours.
bool CudaBackend::cudnn_batchnorm_applies(const Tensor& x) const {
  return batchnorm_cudnn_ && channels_last(x.layout()) && (x.dtype() == DType::BF16 || x.dtype() == DType::F32);
}

// The cuDNN forward when it applies (false: run ours). Its reserve comes from `tape_arena`, so it lives until the
// backward.
bool CudaBackend::cudnn_batchnorm_forward(const Tensor& x, const Tensor* z, const Tensor& gamma, const Tensor& beta,
                                          double eps, double momentum, Tensor& y, Tensor& save_mean,
                                          Tensor& save_invstd, Tensor& running_mean, Tensor& running_var, bool relu,
                                          Arena& tape_arena) {
  cudnn_batchnorms_.erase(save_mean.raw());  // whatever an earlier forward left at this address
  if (!cudnn_batchnorm_applies(x)) return false;
  const kg::CudnnBatchNorm b{x.dim(0), x.dim(1), x.dim(2) * x.dim(3), x.dtype() == DType::BF16, relu || z, z != nullptr};
  const size_t reserve_bytes = kg::cudnn_batchnorm_reserve_bytes(ctx(), b);
  void* reserve = reserve_bytes > 0 ? tape_arena.allocate(reserve_bytes) : nullptr;
  const size_t ws = kg::cudnn_batchnorm_workspace_bytes(ctx(), b);
  kg::cudnn_batchnorm_forward_train(ctx(), b, x.raw(), z ? z->raw() : nullptr, f32(gamma), f32(beta), eps, momentum,
                                    y.raw(), f32(save_mean), f32(save_invstd), f32(running_mean), f32(running_var),
                                    conv_workspace(ws), ws, reserve, reserve_bytes);
  cudnn_batchnorms_[save_mean.raw()] = {reserve, reserve_bytes, f32(beta), eps, b.relu, b.add, x.raw()};
  ++cudnn_batchnorm_calls_;
  return true;
}

// The cuDNN backward of a cuDNN forward (found by its save_mean); false: run ours.
bool CudaBackend::cudnn_batchnorm_backward(const Tensor& x, const Tensor* relu_y, const Tensor& dy,
                                           const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                                           GradTarget dx, GradTarget* dz, GradTarget dgamma, GradTarget dbeta,
                                           Arena& scratch) {
  if (!cudnn_batchnorm_applies(x)) return false;
  const auto it = cudnn_batchnorms_.find(save_mean.raw());
  if (it == cudnn_batchnorms_.end()) return false;
  const CudnnBatchNormRecord r = it->second;
  cudnn_batchnorms_.erase(it);  // one backward per forward
  BTS_CHECK(r.x == x.raw() && r.relu == (relu_y != nullptr) && r.add == (dz != nullptr),
            "cuDNN BatchNorm: a backward that does not match its forward (another input or fusion)");
  const kg::CudnnBatchNorm b{x.dim(0), x.dim(1), x.dim(2) * x.dim(3), x.dtype() == DType::BF16, r.relu, r.add};
  // cuDNN writes every gradient (its blend factors are not relied on: the fused kernels may not support them); a
  // target that accumulates, or none, takes its gradient through a temporary in the step arena.
  const auto written = [&](GradTarget g, const Shape& shape, DType dtype, Layout layout) {
    return (g && !g.accumulate) ? g.ptr : Tensor::empty_in(scratch, shape, dtype, layout).raw();
  };
  const Shape cs{b.C};
  void* px = written(dx, x.shape(), x.dtype(), x.layout());
  void* pz = r.add ? written(*dz, x.shape(), x.dtype(), x.layout()) : nullptr;
  void* pgamma = written(dgamma, cs, DType::F32, Layout::NCHW);
  void* pbeta = written(dbeta, cs, DType::F32, Layout::NCHW);
  const size_t ws = kg::cudnn_batchnorm_workspace_bytes(ctx(), b);
  kg::cudnn_batchnorm_backward(ctx(), b, x.raw(), relu_y ? relu_y->raw() : nullptr, dy.raw(), f32(gamma), r.beta,
                               r.eps, f32(save_mean), f32(save_invstd), px, pz, static_cast<float*>(pgamma),
                               static_cast<float*>(pbeta), conv_workspace(ws), ws, r.reserve, r.reserve_bytes);
  const auto add_into = [&](GradTarget g, void* p, const Shape& shape, DType dtype, Layout layout) {
    if (g && g.accumulate) copy_grad(Tensor::wrap(p, shape, dtype, Device::CUDA, layout), g);
  };
  add_into(dx, px, x.shape(), x.dtype(), x.layout());
  if (r.add) add_into(*dz, pz, x.shape(), x.dtype(), x.layout());
  add_into(dgamma, pgamma, cs, DType::F32, Layout::NCHW);
  add_into(dbeta, pbeta, cs, DType::F32, Layout::NCHW);
  ++cudnn_batchnorm_calls_;
  return true;
}

void CudaBackend::batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                          double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                          Tensor& running_mean, Tensor& running_var, Arena& tape_arena) {
  if (cudnn_batchnorm_forward(x, nullptr, gamma, beta, eps, momentum, y, save_mean, save_invstd, running_mean,
                              running_var, /*relu=*/false, tape_arena))
    return;
  bn_forward_train(scratch(bn_scratch_bytes(bn_shape(x))), x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                   running_mean, running_var, /*relu=*/false);
}

void CudaBackend::batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                               double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                               Tensor& running_mean, Tensor& running_var, Arena& tape_arena) {
  if (cudnn_batchnorm_forward(x, nullptr, gamma, beta, eps, momentum, y, save_mean, save_invstd, running_mean,
                              running_var, /*relu=*/true, tape_arena))
    return;
  bn_forward_train(scratch(bn_scratch_bytes(bn_shape(x))), x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                   running_mean, running_var, /*relu=*/true);
}

void CudaBackend::batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                         const Tensor& running_mean, const Tensor& running_var, Tensor& y) {
  const kg::BatchNormShape s = bn_shape(x);
  auto* coefficients = static_cast<double*>(scratch(bn_scratch_bytes(s)));
  on_elements(x, [&](auto tag) {
    using T = decltype(tag);
    kg::batchnorm_forward_eval(cu_stream(), s, elems<T>(x), f32(gamma), f32(beta), static_cast<float>(eps),
                               f32(running_mean), f32(running_var), elems<T>(y), coefficients);
  });
}

namespace {
// BatchNorm's backward, with the ReLU after it folded in when relu_y (its output) is given.
void bn_backward(const Tensor& x, const Tensor& dy, const Tensor* relu_y, const Tensor& gamma,
                 const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx, GradTarget dgamma,
                 GradTarget dbeta, Arena& scratch, GradTarget dz = GradTarget()) {
  const kg::BatchNormShape s = bn_shape(x);
  float* pgamma = dgamma ? dgamma.as<float>() : scratch_elems<float>(scratch, s.C);
  float* pbeta = dbeta ? dbeta.as<float>() : scratch_elems<float>(scratch, s.C);
  auto* sums = static_cast<double*>(scratch.allocate(bn_scratch_bytes(s)));
  on_elements(x, [&](auto tag) {
    using T = decltype(tag);
    T* px = dx ? dx.as<T>() : scratch_elems<T>(scratch, x.numel());
    kg::batchnorm_backward(cu_stream(), s, elems<T>(x), elems<T>(dy), f32(gamma), f32(save_mean), f32(save_invstd),
                           px, pgamma, pbeta, dx.accumulate, dgamma.accumulate, sums,
                           relu_y ? static_cast<const T*>(elems<T>(*relu_y)) : nullptr, dz ? dz.as<T>() : nullptr,
                           dz.accumulate);
  });
}
}  // namespace

void CudaBackend::batchnorm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                                     const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                                     Arena& scratch) {
  if (cudnn_batchnorm_backward(x, nullptr, dy, gamma, save_mean, save_invstd, dx, nullptr, dgamma, dbeta, scratch))
    return;
  bn_backward(x, dy, nullptr, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

void CudaBackend::batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                          const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                          GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  if (cudnn_batchnorm_backward(x, &y, dy, gamma, save_mean, save_invstd, dx, nullptr, dgamma, dbeta, scratch))
    return;
  bn_backward(x, dy, &y, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

// A residual block's end, relu(BatchNorm(x) + z): our BatchNorm kernels with the add folded into the output pass
// and the shortcut's gradient into the dx pass (kernels/cuda/batchnorm.h), or cuDNN's BN_ADD_ACTIVATION.
void CudaBackend::batchnorm_add_relu_forward_train(const Tensor& x, const Tensor& z, const Tensor& gamma,
                                                   const Tensor& beta, double eps, double momentum, Tensor& y,
                                                   Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                                                   Tensor& running_var, Arena& tape_arena) {
  if (cudnn_batchnorm_forward(x, &z, gamma, beta, eps, momentum, y, save_mean, save_invstd, running_mean,
                              running_var, /*relu=*/true, tape_arena))
    return;
  bn_forward_train(scratch(bn_scratch_bytes(bn_shape(x))), x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                   running_mean, running_var, /*relu=*/true, &z);
}

void CudaBackend::batchnorm_add_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy,
                                              const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                                              GradTarget dx, GradTarget dz, GradTarget dgamma, GradTarget dbeta,
                                              Arena& scratch) {
  if (cudnn_batchnorm_backward(x, &y, dy, gamma, save_mean, save_invstd, dx, &dz, dgamma, dbeta, scratch)) return;
  bn_backward(x, dy, &y, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch, dz);
}

void CudaBackend::add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  on_elements(a, [&](auto tag) {
    using T = decltype(tag);
    kg::add_relu_forward(cu_stream(), a.numel(), elems<T>(a), elems<T>(b), elems<T>(y));
  });
}

void CudaBackend::add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db,
                                    Arena& /*scratch*/) {
  on_elements(y, [&](auto tag) {
    using T = decltype(tag);
    kg::add_relu_backward(cu_stream(), y.numel(), elems<T>(y), elems<T>(dy), da ? da.as<T>() : nullptr,
                          da.accumulate, db ? db.as<T>() : nullptr, db.accumulate);
  });
}

void CudaBackend::relu_forward(const Tensor& x, Tensor& y) {
  on_elements(x, [&](auto tag) {
    using T = decltype(tag);
    kg::relu_forward(cu_stream(), x.numel(), elems<T>(x), elems<T>(y));
  });
}

void CudaBackend::relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) {
  on_elements(y, [&](auto tag) {
    using T = decltype(tag);
    kg::relu_backward(cu_stream(), y.numel(), elems<T>(y), elems<T>(dy), dx.as<T>(), dx.accumulate);
  });
}

void CudaBackend::add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  on_elements(a, [&](auto tag) {
    using T = decltype(tag);
    kg::add_forward(cu_stream(), a.numel(), elems<T>(a), elems<T>(b), elems<T>(y));
  });
}

void CudaBackend::convert(const Tensor& src, DType dst_dtype, GradTarget dst) {
  if (src.layout() != dst.layout) {  // moved and converted in one pass
    BTS_CHECK(src.ndim() == 4, "convert: " << src.describe() << " to layout " << layout_name(dst.layout));
    const auto from = memory_order(src.layout()), to = memory_order(dst.layout);
    const int64_t N = src.dim(0), C = src.dim(1), HW = src.dim(2) * src.dim(3);
    if (src.dtype() == DType::F32 && dst_dtype == DType::BF16)
      return kg::relayout_convert(cu_stream(), from, to, N, C, HW, src.data<float>(), dst.as<uint16_t>(),
                                  dst.accumulate);
    if (src.dtype() == DType::BF16 && dst_dtype == DType::F32)
      return kg::relayout_convert(cu_stream(), from, to, N, C, HW, elems<uint16_t>(src), dst.as<float>(),
                                  dst.accumulate);
    BTS_FAIL("convert: " << dtype_name(src.dtype()) << " to " << dtype_name(dst_dtype) << " is not supported");
  }
  if (src.dtype() == DType::F32 && dst_dtype == DType::BF16)
    kg::convert_f32_to_bf16(cu_stream(), src.numel(), src.data<float>(), dst.as<uint16_t>(), dst.accumulate);
  else if (src.dtype() == DType::BF16 && dst_dtype == DType::F32)
    kg::convert_bf16_to_f32(cu_stream(), src.numel(), elems<uint16_t>(src), dst.as<float>(), dst.accumulate);
  else
    BTS_FAIL("convert: " << dtype_name(src.dtype()) << " to " << dtype_name(dst_dtype) << " is not supported");
}

void CudaBackend::copy_grad(const Tensor& dy, GradTarget dx) {
  on_elements(dy, [&](auto tag) {
    using T = decltype(tag);
    kg::copy_grad(cu_stream(), dy.numel(), elems<T>(dy), dx.as<T>(), dx.accumulate);
  });
}

void CudaBackend::global_avg_pool_forward(const Tensor& x, Tensor& y) {
  on_elements(x, [&](auto tag) {
    using T = decltype(tag);
    kg::global_avg_pool_forward(cu_stream(), x.dim(0), x.dim(1), x.dim(2) * x.dim(3), elems<T>(x), elems<T>(y),
                                channels_last(x.layout()));
  });
}

void CudaBackend::global_avg_pool_backward(const Tensor& dy, int64_t hw, GradTarget dx) {
  on_elements(dy, [&](auto tag) {
    using T = decltype(tag);
    kg::global_avg_pool_backward(cu_stream(), dy.dim(0), dy.dim(1), hw, elems<T>(dy), dx.as<T>(), dx.accumulate,
                                 channels_last(dx.layout));
  });
}

void CudaBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  kg::linear_forward(ctx(), {x.dim(0), x.dim(1), w.dim(0)}, f32(x), f32(w), f32(b), f32(y));
}

void CudaBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, GradTarget dx, GradTarget dw,
                                  GradTarget db, Arena& scratch) {
  float* pw = dw ? dw.as<float>() : scratch_elems<float>(scratch, w.numel());
  float* pb = db ? db.as<float>() : scratch_elems<float>(scratch, w.dim(0));
  kg::linear_backward(ctx(), {x.dim(0), x.dim(1), w.dim(0)}, f32(x), f32(w), f32(dy), dx ? dx.as<float>() : nullptr,
                      pw, pb, dx.accumulate, dw.accumulate);
}

void CudaBackend::cross_entropy_forward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                        const Tensor& sample_weights, Tensor& loss_per_sample,
                                        Tensor& prob_per_target, Tensor& saved, Tensor& total) {
  // Labels are validated where they are made (data readers, mixing); here an out-of-range one gives NaN.
  kg::cross_entropy_forward(cu_stream(), {logits.dim(0), logits.dim(1), labels.dim(1)}, f32(logits),
                            labels.data<int32_t>(), f32(label_weights), f32(sample_weights), f32(loss_per_sample),
                            f32(prob_per_target), saved.data<double>(), f32(total));
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& label_weights,
                                         const Tensor& sample_weights, const Tensor& saved, const Tensor& dtotal,
                                         GradTarget dlogits) {
  kg::cross_entropy_backward(cu_stream(), {logits.dim(0), logits.dim(1), labels.dim(1)}, f32(logits),
                             labels.data<int32_t>(), f32(label_weights), f32(sample_weights), saved.data<double>(),
                             f32(dtotal), dlogits.as<float>(), dlogits.accumulate);
}

void CudaBackend::sgd_step(Tensor& w, const Tensor& g, Tensor& momentum, const Tensor& lr,
                           const kernels::SgdHyper& h) {
  kg::sgd_step(cu_stream(), w.numel(), f32(w), f32(g), f32(momentum), lr.data<double>(), h);
}

void CudaBackend::write_bytes(void* dst, const void* src, size_t bytes) {
  kg::write_bytes(cu_stream(), dst, src, bytes);
}

}  // namespace bts
