// The GPU suites' limits (tests/common/gpu_limits.h), proved on the CPU: the CPU GEMM emulates a GPU's fp32
// arithmetic (TF32 operand rounding, other summation orders as ulp noise; kernels/cpu/blas.h) and the GPU suites'
// own comparison functions must pass against those emulated runs, while a real error (a transposed gradient) must
// still fail them (the 20-step curve's limits: test_gpu_curve_limits.cpp). Each case prints the worst error of each kind of tensor as a fraction of its limit.
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "kernels/cpu/blas.h"
#include "tests/common/gemm_emulation.h"
#include "tests/common/golden.h"
#include "tests/common/gpu_limits.h"

using namespace bts;
using bts::kernels::cpu::GemmEmulation;
using bts::kernels::cpu::Tf32Rounding;
using bts::test::Arithmetic;
using bts::test::EmulationScope;
using bts::test::emulation;
using bts::test::GoldenRun;
using bts::test::Limits;
using bts::test::Report;

namespace {

// The fp32 runs a GPU with TF32 off can be: OpenBLAS's order, the reference loops' order, oneDNN's, and 18 other orders
// (outputs moved by up to 4, 16 or 32 ulps: cuDNN's and cuBLAS's kernels split and tree-reduce their sums; a sum
// of K terms in another order moves by about sqrt(K)/2 ulps, 12 for K = 576, more where it cancels).
std::vector<Arithmetic> fp32_arithmetics() {
  std::vector<Arithmetic> v{{"gemm", CpuAlgo::Gemm, {}}, {"reference loops", CpuAlgo::Reference, {}},
                            {"oneDNN", CpuAlgo::Fast, {}}};
  for (int ulps : {4, 16, 32})
    for (uint64_t seed = 1; seed <= 6; ++seed)
      v.push_back({"gemm +-" + std::to_string(ulps) + " ulp, seed " + std::to_string(seed), CpuAlgo::Gemm,
                   emulation(Tf32Rounding::Off, ulps, seed)});
  return v;
}

// The TF32 runs: operands rounded to nearest or truncated, each with and without other summation orders.
std::vector<Arithmetic> tf32_arithmetics() {
  std::vector<Arithmetic> v;
  for (Tf32Rounding r : {Tf32Rounding::Nearest, Tf32Rounding::Truncate}) {
    const std::string rn = r == Tf32Rounding::Nearest ? "TF32 nearest" : "TF32 truncate";
    v.push_back({rn, CpuAlgo::Gemm, emulation(r, 0, 0)});
    for (int ulps : {4, 16, 32})
      for (uint64_t seed = 1; seed <= 2; ++seed)
        v.push_back({rn + " +-" + std::to_string(ulps) + " ulp, seed " + std::to_string(seed), CpuAlgo::Gemm,
                     emulation(r, ulps, seed)});
  }
  return v;
}

// A golden run under an emulated arithmetic that counts failures instead of failing the test.
GoldenRun counting_run(const Arithmetic& a, const Limits& limits) {
  GoldenRun run;
  run.algo = a.algo;
  run.limits = limits;
  run.enforce = false;
  run.quiet = true;
  return run;
}

// Runs the golden comparison under each arithmetic with `limits`; returns, per kind of tensor, the worst error
// as a fraction of its limit (and prints them), and the number of runs that failed.
int prove_limits(const std::vector<Arithmetic>& arithmetics, const Limits& limits, const char* title) {
  std::map<std::string, double> worst;
  int failed_runs = 0;
  for (const Arithmetic& a : arithmetics) {
    EmulationScope scope(a.gemm);
    std::printf("  %-28s", a.name.c_str());
    const Report r = bts::test::run_golden(counting_run(a, limits));
    if (r.failed > 0) ++failed_runs;
    for (const auto& kv : r.worst_error) worst[kv.first] = std::max(worst[kv.first], kv.second);
  }
  const std::map<std::string, double> lim{{"logits", limits.logits},           {"loss", limits.loss},
                                          {"grad", limits.grad},               {"bn_stats", limits.bn_stats},
                                          {"step_losses", limits.step_losses}, {"final_params", limits.final_params},
                                          {"eval_logits", limits.eval_logits}};
  std::printf("  %s: worst over %zu emulated runs\n", title, arithmetics.size());
  for (const auto& kv : worst) {
    const double l = lim.at(kv.first);
    if (l == bts::test::kNotCompared)
      std::printf("    %-13s rel err %.2e  (not compared)\n", kv.first.c_str(), kv.second);
    else
      std::printf("    %-13s rel err %.2e  limit %.1e  %.3f of limit\n", kv.first.c_str(), kv.second, l, kv.second / l);
  }
  return failed_runs;
}

// A real error: the weight gradient of a square 3x3 convolution transposed (out and in channels swapped), the
// mistake a wrong cuDNN/cuBLAS transpose flag makes. Planted after step 0's backward, it flows into the update.
void transpose_conv_gradient(ResNet18& model) {
  Parameter& p = model.params().at("layer2.0.conv2.weight");
  REQUIRE(p.shape.size() == 4);
  REQUIRE(p.shape[0] == p.shape[1]);
  const int64_t k = p.shape[0], rs = p.shape[2] * p.shape[3];
  std::vector<double> g = p.grad.to_double_vector();
  std::vector<double> t(g.size());
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < rs; ++j) t[(o * k + i) * rs + j] = g[(i * k + o) * rs + j];
  float* dst = p.grad.data<float>();
  for (size_t n = 0; n < t.size(); ++n) dst[n] = static_cast<float>(t[n]);
}

// The same mistake in the forward: the weights of that convolution used transposed.
void transpose_conv_weight(ResNet18& model) {
  Parameter& p = model.params().at("layer2.0.conv2.weight");
  const int64_t k = p.shape[0], rs = p.shape[2] * p.shape[3];
  std::vector<double> w = p.data.to_double_vector();
  float* dst = p.data.data<float>();
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < rs; ++j) dst[(o * k + i) * rs + j] = static_cast<float>(w[(i * k + o) * rs + j]);
}

enum class Planted { Gradient, Weight };

int failures_with_planted_error(const Arithmetic& a, const Limits& limits, Planted what) {
  EmulationScope scope(a.gemm);
  GoldenRun run = counting_run(a, limits);
  if (what == Planted::Gradient) run.tamper_grad = transpose_conv_gradient;
  else run.tamper_init = transpose_conv_weight;
  std::printf("  planted transposed %s, %-16s", what == Planted::Gradient ? "gradient" : "weight  ", a.name.c_str());
  return bts::test::run_golden(run).failed;
}

}  // namespace

TEST_SUITE("gpu_limits") {

TEST_CASE("TF32 rounding of the emulation: 10 mantissa bits kept, nearest (ties away) or truncated") {
  using kernels::cpu::round_to_tf32;
  // 1 + 2^-10 is a TF32 number; 1 + 2^-11 is halfway between 1 and 1 + 2^-10; 1 + 2^-11 + 2^-20 is above halfway.
  const float one = 1.f, step = std::ldexp(1.f, -10), half = std::ldexp(1.f, -11), tiny = std::ldexp(1.f, -20);
  CHECK(round_to_tf32(one + step, Tf32Rounding::Nearest) == one + step);
  CHECK(round_to_tf32(one + half, Tf32Rounding::Nearest) == one + step);  // tie: away from zero
  CHECK(round_to_tf32(one + half, Tf32Rounding::Truncate) == one);
  CHECK(round_to_tf32(one + half - tiny, Tf32Rounding::Nearest) == one);
  CHECK(round_to_tf32(-(one + half + tiny), Tf32Rounding::Nearest) == -(one + step));
  CHECK(round_to_tf32(-(one + half + tiny), Tf32Rounding::Truncate) == -one);
  CHECK(round_to_tf32(0.1f, Tf32Rounding::Off) == 0.1f);
  CHECK(std::abs(round_to_tf32(0.1f, Tf32Rounding::Nearest) - 0.1f) <= 0.1f * std::ldexp(1.f, -11));
}

TEST_CASE("GPU fp32 (TF32 off) golden limits hold under other summation orders and catch a transposed gradient") {
  const Limits lim = bts::test::gpu_golden_limits_fp32();
  CHECK(prove_limits(fp32_arithmetics(), lim, "fp32") == 0);
  CHECK(failures_with_planted_error({"gemm", CpuAlgo::Gemm, {}}, lim, Planted::Gradient) > 0);
  CHECK(failures_with_planted_error({"reference loops", CpuAlgo::Reference, {}}, lim, Planted::Gradient) > 0);
  CHECK(failures_with_planted_error({"gemm", CpuAlgo::Gemm, {}}, lim, Planted::Weight) > 0);
}

TEST_CASE("GPU TF32 golden limits hold under emulated TF32 and catch a transposed weight") {
  const Limits lim = bts::test::gpu_golden_limits_tf32();
  CHECK(prove_limits(tf32_arithmetics(), lim, "TF32") == 0);
  // Under TF32 only the forward of step 0 is compared, so the planted error is a transposed weight.
  for (Tf32Rounding r : {Tf32Rounding::Nearest, Tf32Rounding::Truncate})
    CHECK(failures_with_planted_error({r == Tf32Rounding::Nearest ? "TF32 nearest" : "TF32 truncate", CpuAlgo::Gemm,
                                       emulation(r, 0, 0)},
                                      lim, Planted::Weight) > 0);
}

}  // TEST_SUITE
