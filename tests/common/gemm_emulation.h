// Emulated GPU arithmetic for the CPU tests that prove the GPU suites' limits (kernels/cpu/blas.h's GEMM emulation).
#pragma once
#include <cstdint>
#include <string>

#include "engine/ops.h"
#include "kernels/cpu/blas.h"

namespace bts::test {

// Sets the CPU GEMM emulation for a scope; never throws from its destructor.
struct EmulationScope {
  kernels::cpu::GemmEmulation prev;
  explicit EmulationScope(const kernels::cpu::GemmEmulation& e) : prev(kernels::cpu::gemm_emulation()) {
    kernels::cpu::set_gemm_emulation(e);
  }
  ~EmulationScope() { kernels::cpu::set_gemm_emulation(prev); }
};

inline kernels::cpu::GemmEmulation emulation(kernels::cpu::Tf32Rounding tf32, int noise_ulps, uint64_t seed) {
  kernels::cpu::GemmEmulation e;
  e.tf32 = tf32;
  e.noise_ulps = noise_ulps;
  e.seed = seed;
  return e;
}

// One emulated arithmetic a GPU run might have: a name, the CPU algorithm and the GEMM emulation.
struct Arithmetic {
  std::string name;
  CpuAlgo algo;
  kernels::cpu::GemmEmulation gemm;
};

}  // namespace bts::test
