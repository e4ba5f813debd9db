// The GPU suite's 20-step training curve (tests/common/training_curve.h) against the CPU's: its limits
// (tests/common/gpu_limits.h) proved on the CPU under emulated GPU arithmetic. A suite of its own: seven short
// trainings, too slow for the sanitizer run (the same emulation code is exercised there by cpu.gpu_limits).
#include <algorithm>
#include <cstdio>
#include <vector>

#include "tests/common/gemm_emulation.h"
#include "tests/common/gpu_limits.h"

using namespace bts;
using bts::kernels::cpu::GemmEmulation;
using bts::kernels::cpu::Tf32Rounding;
using bts::test::Arithmetic;
using bts::test::EmulationScope;
using bts::test::emulation;

namespace {

// The GPU suite's 20-step test compares the GPU's curve with the CPU's im2col + gemm curve. Every emulated GPU
// arithmetic must stay within its limits, and the curve must still fall.
void prove_curve_limits(const std::vector<Arithmetic>& arithmetics, bool tf32) {
  const bts::test::CurveLimits lim = bts::test::gpu_curve_limits(tf32);
  std::vector<double> ref;
  {
    EmulationScope scope(GemmEmulation{});
    const CpuAlgo prev = cpu_algo();
    set_cpu_algo(CpuAlgo::Gemm);
    ref = bts::test::training_curve_losses(Device::CPU);
    set_cpu_algo(prev);
  }
  bts::test::CurveDistance worst;
  for (const Arithmetic& a : arithmetics) {
    EmulationScope scope(a.gemm);
    const CpuAlgo prev = cpu_algo();
    set_cpu_algo(a.algo);
    const std::vector<double> ours = bts::test::training_curve_losses(Device::CPU);
    set_cpu_algo(prev);
    const bts::test::CurveDistance d = bts::test::curve_distance(ours, ref);
    std::printf("  %-28s 20-step curve %.5f -> %.5f: step 1 %.1e, step 2 %.1e, curve %.1e\n", a.name.c_str(),
                ours.front(), ours.back(), d.first, d.second, d.curve);
    CHECK_MESSAGE(bts::test::within(d, lim), a.name);
    CHECK(ours.back() < ours.front());
    worst.first = std::max(worst.first, d.first);
    worst.second = std::max(worst.second, d.second);
    worst.curve = std::max(worst.curve, d.curve);
  }
  std::printf("  TF32 %s: worst step 1 %.1e (%.2f of limit), step 2 %.1e (%.2f), curve %.1e (%.2f)\n",
              tf32 ? "on" : "off", worst.first, worst.first / lim.first, worst.second, worst.second / lim.second,
              worst.curve, worst.curve / lim.curve);
}

}  // namespace

TEST_SUITE("gpu_curve_limits") {

TEST_CASE("GPU 20-step curve limits hold under emulated GPU arithmetic") {
  std::vector<Arithmetic> fp32{{"reference loops", CpuAlgo::Reference, {}}};
  for (uint64_t seed = 1; seed <= 2; ++seed)
    fp32.push_back({"gemm +-16 ulp, seed " + std::to_string(seed), CpuAlgo::Gemm,
                    emulation(Tf32Rounding::Off, 16, seed)});
  prove_curve_limits(fp32, false);
  std::vector<Arithmetic> tf32;
  tf32.push_back({"TF32 nearest", CpuAlgo::Gemm, emulation(Tf32Rounding::Nearest, 0, 0)});
  tf32.push_back({"TF32 truncate +-16 ulp", CpuAlgo::Gemm, emulation(Tf32Rounding::Truncate, 16, 7)});
  prove_curve_limits(tf32, true);
}

}  // TEST_SUITE
