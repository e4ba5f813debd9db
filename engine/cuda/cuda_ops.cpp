// The CUDA backend's differentiable ops and SGD step: cuDNN convolutions (one grow-only workspace per backend, so
// a warm step allocates nothing), cuBLAS for the linear layer, custom kernels for the rest. f32 only (bf16 ops run
// their f32 kernels between conversions, engine/ops.cpp; only convert() sees bf16 here).
#include "engine/arena.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/steady_state.h"
#include "engine/tensor.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/pool.h"
#include "kernels/cuda/sgd.h"

namespace bts {

namespace kg = kernels::cuda;

namespace {
kg::Context& ctx() { return kg::current_context(); }
cudaStream_t cu_stream() { return ctx().stream(); }

const float* f32(const Tensor& t) {
  BTS_CHECK(t.dtype() == DType::F32, "the CUDA backend computes in f32, got " << t.describe());
  return t.data<float>();
}
float* f32(Tensor& t) { return const_cast<float*>(f32(static_cast<const Tensor&>(t))); }

float* scratch_floats(Arena& arena, int64_t n) {
  return static_cast<float*>(arena.allocate(static_cast<size_t>(n) * sizeof(float)));
}
kg::BatchNormShape bn_shape(const Tensor& x) { return {x.dim(0), x.dim(1), x.dim(2) * x.dim(3)}; }
size_t bn_scratch_bytes(const kg::BatchNormShape& s) { return kg::batchnorm_scratch_doubles(s) * sizeof(double); }

// A convolution pass's workspace size, which makes the shape's plan on first use: a warmed-up step must not (a plan
// means descriptors and an algorithm search, in measured mode device allocations and a wait): the guard hears of it.
size_t planned_workspace(const kernels::ConvShape& s, kg::ConvPass pass) {
  const uint64_t before = kg::conv2d_plans_built();
  const size_t ws = kg::conv2d_workspace_bytes(ctx(), s, pass);
  if (kg::conv2d_plans_built() != before)
    steady_state::note_allocation(Device::CUDA, 0, "a new cuDNN convolution plan (descriptors and algorithm search)");
  return ws;
}
}  // namespace

void CudaBackend::conv2d_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, Tensor& y,
                                 Arena& /*scratch*/) {
  const size_t ws = planned_workspace(s, kg::ConvPass::Forward);
  kg::conv2d_forward(ctx(), s, f32(x), f32(w), f32(y), conv_workspace(ws), ws);
}

void CudaBackend::conv2d_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, GradTarget dx,
                                       Arena& /*scratch*/) {
  const size_t ws = planned_workspace(s, kg::ConvPass::BackwardData);
  kg::conv2d_backward_data(ctx(), s, f32(dy), f32(w), dx.as<float>(), dx.accumulate, conv_workspace(ws), ws);
}

void CudaBackend::conv2d_backward_filter(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy,
                                         GradTarget dw, Arena& /*scratch*/) {
  const size_t ws = planned_workspace(s, kg::ConvPass::BackwardFilter);
  kg::conv2d_backward_filter(ctx(), s, f32(x), f32(dy), dw.as<float>(), dw.accumulate, conv_workspace(ws), ws);
}

void CudaBackend::batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                          double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                          Tensor& running_mean, Tensor& running_var) {
  const kg::BatchNormShape s = bn_shape(x);
  // Reused scratch: the statistics kernels write it and the apply kernel reads it, in stream order, before any
  // later batchnorm on this stream can overwrite it.
  auto* stats = static_cast<double*>(scratch(bn_scratch_bytes(s)));
  kg::batchnorm_forward_train(cu_stream(), s, f32(x), f32(gamma), f32(beta), static_cast<float>(eps),
                              static_cast<float>(momentum), f32(y), f32(save_mean), f32(save_invstd),
                              f32(running_mean), f32(running_var), stats);
}

void CudaBackend::batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                               double momentum, Tensor& y, Tensor& save_mean, Tensor& save_invstd,
                                               Tensor& running_mean, Tensor& running_var, Arena& /*scratch*/) {
  const kg::BatchNormShape s = bn_shape(x);
  auto* stats = static_cast<double*>(scratch(bn_scratch_bytes(s)));
  kg::batchnorm_forward_train(cu_stream(), s, f32(x), f32(gamma), f32(beta), static_cast<float>(eps),
                              static_cast<float>(momentum), f32(y), f32(save_mean), f32(save_invstd),
                              f32(running_mean), f32(running_var), stats, /*relu=*/true);
}

void CudaBackend::batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                                         const Tensor& running_mean, const Tensor& running_var, Tensor& y) {
  const kg::BatchNormShape s = bn_shape(x);
  auto* coefficients = static_cast<double*>(scratch(bn_scratch_bytes(s)));
  kg::batchnorm_forward_eval(cu_stream(), s, f32(x), f32(gamma), f32(beta), static_cast<float>(eps),
                             f32(running_mean), f32(running_var), f32(y), coefficients);
}

namespace {
// BatchNorm's backward, with the ReLU after it folded in when relu_y (its output) is given.
void bn_backward(const Tensor& x, const Tensor& dy, const float* relu_y, const Tensor& gamma, const Tensor& save_mean,
                 const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  const kg::BatchNormShape s = bn_shape(x);
  float* pgamma = dgamma ? dgamma.as<float>() : scratch_floats(scratch, s.C);
  float* pbeta = dbeta ? dbeta.as<float>() : scratch_floats(scratch, s.C);
  float* px = dx ? dx.as<float>() : scratch_floats(scratch, x.numel());
  auto* sums = static_cast<double*>(scratch.allocate(bn_scratch_bytes(s)));
  kg::batchnorm_backward(cu_stream(), s, f32(x), f32(dy), f32(gamma), f32(save_mean), f32(save_invstd), px, pgamma,
                         pbeta, dx.accumulate, dgamma.accumulate, sums, relu_y);
}
}  // namespace

void CudaBackend::batchnorm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& save_mean,
                                     const Tensor& save_invstd, GradTarget dx, GradTarget dgamma, GradTarget dbeta,
                                     Arena& scratch) {
  bn_backward(x, dy, nullptr, gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

void CudaBackend::batchnorm_relu_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                                          const Tensor& save_mean, const Tensor& save_invstd, GradTarget dx,
                                          GradTarget dgamma, GradTarget dbeta, Arena& scratch) {
  bn_backward(x, dy, f32(y), gamma, save_mean, save_invstd, dx, dgamma, dbeta, scratch);
}

void CudaBackend::add_relu_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  kg::add_relu_forward(cu_stream(), a.numel(), f32(a), f32(b), f32(y));
}

void CudaBackend::add_relu_backward(const Tensor& y, const Tensor& dy, GradTarget da, GradTarget db,
                                    Arena& /*scratch*/) {
  kg::add_relu_backward(cu_stream(), y.numel(), f32(y), f32(dy), da ? da.as<float>() : nullptr, da.accumulate,
                        db ? db.as<float>() : nullptr, db.accumulate);
}

void CudaBackend::relu_forward(const Tensor& x, Tensor& y) { kg::relu_forward(cu_stream(), x.numel(), f32(x), f32(y)); }

void CudaBackend::relu_backward(const Tensor& y, const Tensor& dy, GradTarget dx) {
  kg::relu_backward(cu_stream(), y.numel(), f32(y), f32(dy), dx.as<float>(), dx.accumulate);
}

void CudaBackend::add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  kg::add_forward(cu_stream(), a.numel(), f32(a), f32(b), f32(y));
}

void CudaBackend::convert(const Tensor& src, DType dst_dtype, GradTarget dst) {
  const auto bf16 = [](const Tensor& t) { return reinterpret_cast<const uint16_t*>(t.data<BFloat16>()); };
  if (src.dtype() == DType::F32 && dst_dtype == DType::BF16)
    kg::convert_f32_to_bf16(cu_stream(), src.numel(), src.data<float>(), dst.as<uint16_t>(), dst.accumulate);
  else if (src.dtype() == DType::BF16 && dst_dtype == DType::F32)
    kg::convert_bf16_to_f32(cu_stream(), src.numel(), bf16(src), dst.as<float>(), dst.accumulate);
  else
    BTS_FAIL("convert: " << dtype_name(src.dtype()) << " to " << dtype_name(dst_dtype) << " is not supported");
}

void CudaBackend::copy_grad(const Tensor& dy, GradTarget dx) {
  kg::copy_grad(cu_stream(), dy.numel(), f32(dy), dx.as<float>(), dx.accumulate);
}

void CudaBackend::global_avg_pool_forward(const Tensor& x, Tensor& y) {
  kg::global_avg_pool_forward(cu_stream(), x.dim(0), x.dim(1), x.dim(2) * x.dim(3), f32(x), f32(y));
}

void CudaBackend::global_avg_pool_backward(const Tensor& dy, int64_t hw, GradTarget dx) {
  kg::global_avg_pool_backward(cu_stream(), dy.dim(0), dy.dim(1), hw, f32(dy), dx.as<float>(), dx.accumulate);
}

void CudaBackend::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  kg::linear_forward(ctx(), {x.dim(0), x.dim(1), w.dim(0)}, f32(x), f32(w), f32(b), f32(y));
}

void CudaBackend::linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, GradTarget dx, GradTarget dw,
                                  GradTarget db, Arena& scratch) {
  float* pw = dw ? dw.as<float>() : scratch_floats(scratch, w.numel());
  float* pb = db ? db.as<float>() : scratch_floats(scratch, w.dim(0));
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

void CudaBackend::sgd_step(Tensor& w, const Tensor& g, Tensor& momentum, const kernels::SgdHyper& h) {
  kg::sgd_step(cu_stream(), w.numel(), f32(w), f32(g), f32(momentum), h);
}

}  // namespace bts
