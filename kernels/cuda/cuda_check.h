// BTS_CUDA_CHECK: throws with file, line, the failing call and CUDA's error string (runtime API calls).
#pragma once
#include <cuda_runtime_api.h>

#include "kernels/common/check.h"

#define BTS_CUDA_CHECK(call)                                                                        \
  do {                                                                                              \
    cudaError_t bts_cuda_err_ = (call);                                                             \
    if (bts_cuda_err_ != cudaSuccess) {                                                             \
      ::bts::detail::fail(__FILE__, __LINE__, #call,                                                \
                          std::string("CUDA error ") + cudaGetErrorName(bts_cuda_err_) + ": " +    \
                              cudaGetErrorString(bts_cuda_err_));                                   \
    }                                                                                               \
  } while (0)
