// Whole-model checks on the GPU: the PyTorch golden comparison (TF32 off and on), and 20 SGD steps of a
// reduced-width ResNet-18 giving the same losses on the GPU as on the CPU. The limits live in
// tests/common/gpu_limits.h, where they are justified; tests/cpu/test_gpu_limits.cpp proves on the CPU that
// emulated GPU arithmetic meets them and that a planted transposed gradient or weight fails them.
#include <cstdio>

#include "tests/gpu/gpu_helpers.h"
#include "tests/common/gpu_limits.h"

using namespace bts;

using bts::test::Tf32Scope;

TEST_SUITE("model_gpu") {

TEST_CASE("ResNet-18 (reduced width) matches PyTorch on the GPU, fp32 with TF32 off") {
  Tf32Scope tf32(false);
  bts::test::run_against_golden(DType::F32, CpuAlgo::Gemm, bts::test::gpu_golden_limits_fp32(), Device::CUDA);
}

TEST_CASE("ResNet-18 (reduced width) matches PyTorch on the GPU with TF32 (step 0's forward compared)") {
  Tf32Scope tf32(true);
  bts::test::run_against_golden(DType::F32, CpuAlgo::Gemm, bts::test::gpu_golden_limits_tf32(), Device::CUDA);
}

TEST_CASE("20 training steps: GPU losses follow the CPU's") {
  const CpuAlgo prev = cpu_algo();
  set_cpu_algo(CpuAlgo::Gemm);
  const std::vector<double> cpu = bts::test::training_curve_losses(Device::CPU);
  set_cpu_algo(prev);
  for (bool on : {false, true}) {
    Tf32Scope tf32(on);
    const std::vector<double> gpu = bts::test::training_curve_losses(Device::CUDA);
    const bts::test::CurveDistance d = bts::test::curve_distance(gpu, cpu);
    const bts::test::CurveLimits lim = bts::test::gpu_curve_limits(on);
    std::printf("  20 steps, TF32 %s: loss CPU %.5f -> %.5f, GPU %.5f -> %.5f; step 1 %.1e (%.2f of limit), "
                "step 2 %.1e (%.2f), curve %.1e (%.2f)\n",
                on ? "on" : "off", cpu.front(), cpu.back(), gpu.front(), gpu.back(), d.first, d.first / lim.first,
                d.second, d.second / lim.second, d.curve, d.curve / lim.curve);
    CHECK(d.first < lim.first);
    CHECK(d.second < lim.second);
    CHECK(d.curve < lim.curve);
    CHECK(gpu.back() < gpu.front());
  }
}

}  // TEST_SUITE
