// The CUDA execution context: one stream with the cuDNN and cuBLAS handles bound to it, plus the math-mode
// switch (TF32). A trainer owns one; ops run on the current one (a default is created on first use).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

namespace bts::kernels::cuda {

class Context {
 public:
  Context();  // creates a stream and binds fresh cuDNN/cuBLAS handles to it
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  // TF32 tensor cores for fp32 convolutions and GEMMs (on by default: ~10-bit mantissa products, fp32
  // accumulation). Tests comparing against the CPU turn it off for tight tolerances.
  bool allow_tf32() const { return allow_tf32_; }
  void set_allow_tf32(bool on);
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* cublas_workspace_ = nullptr;
  bool allow_tf32_ = true;
};

// The context ops use on this thread; created on first use.
Context& current_context();
// Make `c` current for this thread (nullptr: back to the default one).
void set_current_context(Context* c);

}  // namespace bts::kernels::cuda
