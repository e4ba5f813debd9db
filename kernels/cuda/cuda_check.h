// BTS_CUDA_CHECK: throws with file, line, the failing call and CUDA's error string (runtime API calls).
// BTS_CUDA_SYNC_CHECK=1 in the environment (first runs on a new machine, hunting a fault): every kernel launch and
// cuDNN/cuBLAS call is followed by a device synchronisation and an error check, so an asynchronous fault is blamed
// on the call that caused it instead of a later one. Slow; never on by default.
#pragma once
#include <cstdlib>
#include <string>

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

namespace bts::detail {

inline bool cuda_sync_check_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("BTS_CUDA_SYNC_CHECK");
    return e != nullptr && *e != '\0' && std::string(e) != "0";
  }();
  return on;
}

// True on this thread while a CUDA graph capture is in progress (engine/cuda/cuda_backend.cpp sets it).
inline bool& stream_capture_active() {
  thread_local bool active = false;
  return active;
}

// With BTS_CUDA_SYNC_CHECK on: waits for the device and throws naming `what` if anything queued so far failed.
// Not while capturing a graph (nothing has run yet, and synchronising would invalidate the capture).
inline void cuda_sync_check(const char* file, int line, const char* what) {
  if (!cuda_sync_check_enabled() || stream_capture_active()) return;
  const cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess)
    fail(file, line, what,
         std::string("CUDA error ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) +
             " (raised while this call ran: BTS_CUDA_SYNC_CHECK=1 synchronises after every launch and library call)");
}

}  // namespace bts::detail
