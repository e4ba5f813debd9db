#include "kernels/cuda/cudnn_batchnorm.h"

#include <algorithm>

#include "kernels/common/check.h"
#include "kernels/cuda/check.h"

namespace bts::kernels::cuda {

namespace {

constexpr cudnnBatchNormMode_t kMode = CUDNN_BATCHNORM_SPATIAL_PERSISTENT;

// The descriptors of one call: x (= y = dy = dx), the derived f32 parameter descriptor, the ReLU. Made per call
// (a few host calls; a recorded step makes them once, at capture).
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, params = nullptr;
  cudnnActivationDescriptor_t relu = nullptr;
  explicit Descriptors(const CudnnBatchNorm& b) {
    BTS_CHECK(b.N >= 1 && b.C >= 1 && b.HW >= 1 && b.N * b.C * b.HW < (int64_t(1) << 31),
              "cuDNN BatchNorm: shape " << b.N << " x " << b.C << " x " << b.HW);
    BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    BTS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&params));
    // [N, C, HW, 1] in NHWC order: the spatial dimensions only matter as a count for a spatial BatchNorm.
    BTS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, b.bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT,
                                               static_cast<int>(b.N), static_cast<int>(b.C), static_cast<int>(b.HW),
                                               1));
    BTS_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(params, x, kMode));
    if (b.relu) {
      BTS_CUDNN_CHECK(cudnnCreateActivationDescriptor(&relu));
      BTS_CUDNN_CHECK(cudnnSetActivationDescriptor(relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    }
  }
  ~Descriptors() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (params) cudnnDestroyTensorDescriptor(params);
    if (relu) cudnnDestroyActivationDescriptor(relu);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

cudnnBatchNormOps_t ops(const CudnnBatchNorm& b) {
  BTS_CHECK(!b.add || b.relu, "cuDNN BatchNorm: the add comes with its ReLU (BN_ADD_ACTIVATION)");
  return b.add ? CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION
               : b.relu ? CUDNN_BATCHNORM_OPS_BN_ACTIVATION : CUDNN_BATCHNORM_OPS_BN;
}

void check_eps(double eps) {
  BTS_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "cuDNN BatchNorm: eps " << eps << " below CUDNN_BN_MIN_EPSILON");
}

}  // namespace

size_t cudnn_batchnorm_workspace_bytes(const Context& ctx, const CudnnBatchNorm& b) {
  const Descriptors d(b);
  size_t fwd = 0, bwd = 0;
  BTS_CUDNN_CHECK(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
      ctx.cudnn(), kMode, ops(b), d.x, b.add ? d.x : nullptr, d.x, d.params, d.relu, &fwd));
  // yDesc is given even for plain BN (whose call passes none): cuDNN's documentation does not say a null one is
  // accepted here, and describing y can only be asked of a size.
  BTS_CUDNN_CHECK(cudnnGetBatchNormalizationBackwardExWorkspaceSize(ctx.cudnn(), kMode, ops(b), d.x, d.x, d.x,
                                                                    b.add ? d.x : nullptr, d.x, d.params, d.relu,
                                                                    &bwd));
  return std::max(fwd, bwd);
}

size_t cudnn_batchnorm_reserve_bytes(const Context& ctx, const CudnnBatchNorm& b) {
  const Descriptors d(b);
  size_t bytes = 0;
  BTS_CUDNN_CHECK(
      cudnnGetBatchNormalizationTrainingExReserveSpaceSize(ctx.cudnn(), kMode, ops(b), d.relu, d.x, &bytes));
  return bytes;
}

void cudnn_batchnorm_forward_train(const Context& ctx, const CudnnBatchNorm& b, const void* x, const void* z,
                                   const float* gamma, const float* beta, double eps, double momentum, void* y,
                                   float* save_mean,
                                   float* save_invstd, float* running_mean, float* running_var, void* workspace,
                                   size_t workspace_bytes, void* reserve, size_t reserve_bytes) {
  check_eps(eps);
  BTS_CHECK(!b.add || z, "cuDNN BatchNorm + add: no shortcut");
  const Descriptors d(b);
  const float one = 1.0f, zero = 0.0f;  // y = result (no blend)
  BTS_CUDNN_CHECK(cudnnBatchNormalizationForwardTrainingEx(
      ctx.cudnn(), kMode, ops(b), &one, &zero, d.x, x, b.add ? d.x : nullptr, b.add ? z : nullptr, d.x, y, d.params, gamma, beta, momentum,
      running_mean, running_var, eps, save_mean, save_invstd, d.relu, workspace, workspace_bytes, reserve,
      reserve_bytes));
}

void cudnn_batchnorm_backward(const Context& ctx, const CudnnBatchNorm& b, const void* x, const void* y,
                              const void* dy, const float* gamma, const float* beta, double eps,
                              const float* save_mean, const float* save_invstd, void* dx, void* dz,
                              float* dgamma, float* dbeta, void* workspace,
                              size_t workspace_bytes, void* reserve, size_t reserve_bytes) {
  check_eps(eps);
  BTS_CHECK(dx && dgamma && dbeta && (!b.add || dz),
            "cuDNN BatchNorm backward: dx, dgamma, dbeta (and dz with the add) are required");
  const Descriptors d(b);
  const float one = 1.0f, zero = 0.0f;  // results written, not blended
  BTS_CUDNN_CHECK(cudnnBatchNormalizationBackwardEx(
      ctx.cudnn(), kMode, ops(b), &one, &zero, &one, &zero, d.x, x, b.relu ? d.x : nullptr,
      b.relu ? y : nullptr, d.x, dy, b.add ? d.x : nullptr, b.add ? dz : nullptr, d.x, dx, d.params, gamma, beta, dgamma, dbeta, eps, save_mean,
      save_invstd, d.relu, workspace, workspace_bytes, reserve, reserve_bytes));
}

}  // namespace bts::kernels::cuda
