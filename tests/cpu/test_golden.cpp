// The engine against PyTorch on the CPU (the comparison itself is tests/common/golden.h).
// f64 runs (both CPU algorithms) must agree to 1e-12 (seen: ~5e-15); the f32 run to about 10x what single
// precision was seen to give (logits ~4e-7, gradients <= 2e-6).
#include "tests/common/golden.h"

using namespace bts;
using bts::test::Limits;
using bts::test::run_against_golden;

TEST_SUITE("golden") {

TEST_CASE("ResNet-18 (reduced width) matches PyTorch in float64, reference CPU ops") {
  run_against_golden(DType::F64, CpuAlgo::Reference, Limits{1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12});
}

TEST_CASE("ResNet-18 (reduced width) matches PyTorch in float64, fast CPU ops (im2col + dgemm)") {
  run_against_golden(DType::F64, CpuAlgo::Gemm, Limits{1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12});
}

TEST_CASE("ResNet-18 (reduced width) matches PyTorch in float32, fast CPU ops (im2col + sgemm)") {
  run_against_golden(DType::F32, CpuAlgo::Gemm, Limits{4e-6, 1e-6, 2e-5, 2e-6, 1e-6, 1e-5, 4e-6});
}

}  // TEST_SUITE
