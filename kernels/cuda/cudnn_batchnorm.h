// BatchNorm in training mode through cuDNN (the legacy Ex API, CUDNN_BATCHNORM_SPATIAL_PERSISTENT) for
// channels-last activations, bf16 or f32, with the ReLU after it folded in when asked (CUDNN_BATCHNORM_OPS_BN_ACTIVATION),
// and a residual block's end, relu(BatchNorm(x) + z) (CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION).
// Why: the issue asks for cuDNN's fused NHWC BatchNorm beside our kernels (kernels/cuda/batchnorm.h), "or kernels of
// our own if the bench shows them faster"; `batchnorm: cudnn` (Backend::set_batchnorm_cudnn) routes the
// channels-last training BatchNorms here so bench and runs can compare the two. The contract is ours: save_mean and
// save_invstd [C] f32 (cuDNN's saved mean and 1/sqrt(var + eps)), running statistics moved by `momentum` (cuDNN's
// exponential average factor) toward the batch mean and the unbiased batch variance, gamma/beta/statistics f32.
// Not bit-identical to our kernels (cuDNN sums in its own order): the GPU suite compares them with a tolerance.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/cuda/context.h"

namespace bts::kernels::cuda {

struct CudnnBatchNorm {
  int64_t N = 0, C = 0, HW = 0;  // x[n][hw][c]
  bool bf16 = true;             // else f32
  bool relu = false;            // y = relu(batchnorm(x)); the backward then needs y and the forward's reserve
  bool add = false;             // y = relu(batchnorm(x) + z) (relu must be set too); the backward writes dz
};

// Device memory the calls below need: a workspace (forward or backward, whichever is larger; it may be shared with
// other ops between calls) and a reserve that must live from a forward to its backward.
size_t cudnn_batchnorm_workspace_bytes(const Context& ctx, const CudnnBatchNorm& b);
size_t cudnn_batchnorm_reserve_bytes(const Context& ctx, const CudnnBatchNorm& b);

// All pointers are device memory. Asynchronous on ctx's stream; cuDNN errors throw.
void cudnn_batchnorm_forward_train(const Context& ctx, const CudnnBatchNorm& b, const void* x, const void* z,
                                   const float* gamma, const float* beta, double eps, double momentum, void* y,
                                   float* save_mean,
                                   float* save_invstd, float* running_mean, float* running_var, void* workspace,
                                   size_t workspace_bytes, void* reserve, size_t reserve_bytes);
// dx, dgamma, dbeta (and dz when b.add) are required and written, never added to (cuDNN's blend factors are not
// relied on: an accumulating caller goes through a temporary). y and beta are read only when b.relu.
void cudnn_batchnorm_backward(const Context& ctx, const CudnnBatchNorm& b, const void* x, const void* y,
                              const void* dy, const float* gamma, const float* beta, double eps,
                              const float* save_mean, const float* save_invstd, void* dx, void* dz,
                              float* dgamma, float* dbeta, void* workspace,
                              size_t workspace_bytes, void* reserve, size_t reserve_bytes);

}  // namespace bts::kernels::cuda
