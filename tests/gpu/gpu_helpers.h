// Helpers shared by the GPU suites.
#pragma once
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "engine/tensor.h"
#include "kernels/common/bf16.h"
#include "kernels/cuda/context.h"

namespace bts::test {

// A kernel-argument struct copied to device memory (the batch kernels read their arguments there). The constructor
// waits for the device: a pageable cudaMemcpy may return before the bytes arrive, and a kernel on a non-blocking
// stream would not wait for it. Keep the holder alive while kernels may read it.
template <class T>
struct DeviceCopy {
  static_assert(std::is_trivially_copyable_v<T>);
  Tensor bytes;
  explicit DeviceCopy(const T& v) : bytes(Tensor::empty({static_cast<int64_t>(sizeof(T))}, DType::U8, Device::CUDA)) {
    if (cudaMemcpy(bytes.raw(), &v, sizeof(T), cudaMemcpyHostToDevice) != cudaSuccess)
      throw std::runtime_error("DeviceCopy: cudaMemcpy failed");
    if (cudaDeviceSynchronize() != cudaSuccess) throw std::runtime_error("DeviceCopy: cudaDeviceSynchronize failed");
  }
  const T* get() const { return static_cast<const T*>(bytes.raw()); }
};

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

// A kernel element as fp32: float itself, bf16 bits widened (exact).
inline float widen(float v) { return v; }
inline float widen(uint16_t v) { return kernels::bf16_to_f32(v); }

// Mismatched elements, bit for bit, except that any two NaNs match: a GPU operation with a NaN operand returns the
// canonical NaN, the host keeps the operand's sign and payload. The first three are printed, named `what`.
template <typename T>
int64_t bits_differ(const std::vector<T>& got, const std::vector<T>& want, const char* what) {
  REQUIRE(got.size() == want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same = std::memcmp(&got[i], &want[i], sizeof(T)) == 0 ||
                      (std::isnan(widen(got[i])) && std::isnan(widen(want[i])));
    if (!same && bad++ < 3) std::printf("    %s[%zu]: GPU %.8g, reference %.8g\n", what, i, widen(got[i]), widen(want[i]));
  }
  return bad;
}

}  // namespace bts::test
