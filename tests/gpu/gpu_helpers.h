// Helpers shared by the GPU suites.
#pragma once
#include "kernels/cuda/context.h"

namespace bts::test {

// Sets TF32 on the current CUDA context for a scope and restores the previous setting. Its destructor never
// throws: a throw there, during unwinding from a failed check, would terminate and lose the first message.
struct Tf32Scope {
  bool prev;
  explicit Tf32Scope(bool on) : prev(kernels::cuda::current_context().allow_tf32()) {
    kernels::cuda::current_context().set_allow_tf32(on);
  }
  ~Tf32Scope() {
    try {
      kernels::cuda::current_context().set_allow_tf32(prev);
    } catch (...) {  // the device is already broken; the test that broke it reports why
    }
  }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;
};

}  // namespace bts::test
