// The engine against PyTorch on the CPU (the comparison itself is tests/common/golden.h).
// f64 runs (both CPU algorithms) must agree to 1e-12 (seen: ~5e-15). The f32 run's limits cover every sgemm kernel
// OpenBLAS picks on x86 (the summation order differs between them): with the Haswell (AVX2) kernel the worst errors
// seen were logits 3.4e-7, gradients 1.7e-6, final parameters 6.8e-7, eval-mode logits after the steps 3.4e-7;
// with the SkylakeX (AVX-512) kernel final parameters 1.7e-5 (conv1.weight) and eval-mode logits 9.4e-6 (the
// training steps amplify the rounding differences of the sums). Limits are about 3x the worst of either
// (OPENBLAS_CORETYPE=Haswell / SkylakeX selects a kernel); a wrong op gives errors of 1e-3 and more.
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
  run_against_golden(DType::F32, CpuAlgo::Gemm, Limits{4e-6, 1e-6, 2e-5, 2e-6, 1e-6, 5e-5, 3e-5});
}

TEST_CASE("ResNet-18 (reduced width) matches PyTorch in float32, default CPU ops (oneDNN convolutions)") {
  run_against_golden(DType::F32, CpuAlgo::Fast, Limits{4e-6, 1e-6, 2e-5, 2e-6, 1e-6, 5e-5, 3e-5});
}

}  // TEST_SUITE
