// Throwing checks for cuDNN and cuBLAS calls and kernel launches: file, line, the failing call and the
// library's own error string. (BTS_CUDA_CHECK for the runtime lives in kernels/cuda/cuda_check.h.)
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include "kernels/cuda/cuda_check.h"

#define BTS_CUDNN_CHECK(call)                                                                            \
  do {                                                                                                   \
    cudnnStatus_t bts_st_ = (call);                                                                      \
    if (bts_st_ != CUDNN_STATUS_SUCCESS)                                                                 \
      ::bts::detail::fail(__FILE__, __LINE__, #call,                                                     \
                          std::string("cuDNN error: ") + cudnnGetErrorString(bts_st_));                  \
    ::bts::detail::cuda_sync_check(__FILE__, __LINE__, #call);                                           \
  } while (0)

#define BTS_CUBLAS_CHECK(call)                                                                           \
  do {                                                                                                   \
    cublasStatus_t bts_st_ = (call);                                                                     \
    if (bts_st_ != CUBLAS_STATUS_SUCCESS)                                                                \
      ::bts::detail::fail(__FILE__, __LINE__, #call,                                                     \
                          std::string("cuBLAS error: ") + cublasGetStatusName(bts_st_) + " (" +          \
                              cublasGetStatusString(bts_st_) + ")");                                     \
    ::bts::detail::cuda_sync_check(__FILE__, __LINE__, #call);                                           \
  } while (0)

// After every kernel launch: launch-configuration errors surface here, with the kernel's name. A fault while the
// kernel runs surfaces at a later check unless BTS_CUDA_SYNC_CHECK=1 (kernels/cuda/cuda_check.h).
#define BTS_CUDA_LAUNCH_CHECK(name)                                                                      \
  do {                                                                                                   \
    cudaError_t bts_launch_err_ = cudaGetLastError();                                                   \
    if (bts_launch_err_ != cudaSuccess)                                                                  \
      ::bts::detail::fail(__FILE__, __LINE__, name,                                                      \
                          std::string("kernel launch: ") + cudaGetErrorName(bts_launch_err_) + ": " +   \
                              cudaGetErrorString(bts_launch_err_));                                      \
    ::bts::detail::cuda_sync_check(__FILE__, __LINE__, name);                                            \
  } while (0)
