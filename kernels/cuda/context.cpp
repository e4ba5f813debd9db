#include "kernels/cuda/context.h"

#include <memory>

#include "kernels/cuda/check.h"

namespace bts::kernels::cuda {

Context::Context() {
  // The engine's copies and fills go to this stream too (engine/cuda/cuda_backend.cpp), so nothing relies on
  // the stream being blocking; it stays blocking so that a test's own legacy-stream upload is ordered with it.
  BTS_CUDA_CHECK(cudaStreamCreate(&stream_));
  BTS_CUDNN_CHECK(cudnnCreate(&cudnn_));
  BTS_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  BTS_CUBLAS_CHECK(cublasCreate(&cublas_));
  BTS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  // cuBLAS's workspace given up front (32 MiB, cuBLAS's recommendation for Hopper): its GEMMs then never allocate,
  // and a captured graph holds a fixed address instead of cuBLAS's own pool.
  constexpr size_t kCublasWorkspace = size_t(32) << 20;
  BTS_CUDA_CHECK(cudaMalloc(&cublas_workspace_, kCublasWorkspace));
  BTS_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_, kCublasWorkspace));
  set_allow_tf32(true);
}

Context::~Context() {
  // Destructors must not throw; errors here leave nothing to recover.
  if (cublas_) cublasDestroy(cublas_);
  if (cublas_workspace_) cudaFree(cublas_workspace_);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (stream_) cudaStreamDestroy(stream_);
}

void Context::set_allow_tf32(bool on) {
  allow_tf32_ = on;
  BTS_CUBLAS_CHECK(cublasSetMathMode(cublas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}

void Context::synchronize() const { BTS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

namespace {
thread_local Context* t_current = nullptr;
thread_local std::unique_ptr<Context> t_default;
}  // namespace

Context& current_context() {
  if (t_current) return *t_current;
  if (!t_default) t_default = std::make_unique<Context>();
  return *t_default;
}

void set_current_context(Context* c) { t_current = c; }

}  // namespace bts::kernels::cuda
