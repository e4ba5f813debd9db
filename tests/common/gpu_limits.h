// The GPU suites' limits, in one place for the GPU tests that apply them (tests/gpu/test_model_gpu.cpp) and the
// CPU test that proves them (tests/cpu/test_gpu_limits.cpp). Each limit was set from the worst error the CPU
// measured under emulated GPU arithmetic (kernels/cpu/blas.h: TF32 operands rounded to nearest or truncated;
// other fp32 summation orders as outputs moved by up to 4, 16 or 32 ulps; the reference loops' order), with the
// margin stated; that test fails if any emulated run breaks a limit, or if a planted real error passes them.
#pragma once
#include "tests/common/golden.h"
#include "tests/common/training_curve.h"

namespace bts::test {

// TF32 off: fp32 throughout, summed in cuDNN's and cuBLAS's orders. Step-0 tensors are smooth in rounding noise
// and get limits about 3.5x the worst seen (logits 5.7e-6, loss 1.4e-6, BN statistics 1.4e-6). Gradients are not
// quite: at +-16 ulps one ReLU whose input sits within the noise of 0 flips its gradient mask, and the worst
// gradient moves by 1.0e-2 (3x: 3e-2; a transposed convolution gradient is off by 1.4, 45x the limit). After 5 SGD
// steps at lr 0.1 on a batch of 8 such flips compound: seen step losses 1.3e-2, final parameters 0.12, eval logits
// 4.9e-2 (even +-1 ulp reaches 3.5e-3 on the eval logits); these limits (3x) only catch gross errors, which the
// step-0 limits and the op-by-op GPU suites catch first.
inline Limits gpu_golden_limits_fp32() {
  Limits l{};
  l.logits = 2e-5;
  l.loss = 5e-6;
  l.grad = 3e-2;
  l.bn_stats = 5e-6;
  l.step_losses = 4e-2;
  l.final_params = 0.4;
  l.eval_logits = 0.15;
  return l;
}

// TF32 on: products of operands with 10-bit mantissas. What TF32 can meet against the float64 golden is the
// forward of step 0 (seen: logits 1.3e-3, loss 3.7e-4, BN statistics 7.7e-4; limits about 3.2x). Gradients (seen
// 0.23: BN's backward at batch 8 cancels heavily) and everything after training steps (0.05 to 0.5) are not
// compared: a limit that wide would check nothing. The TF32-off run checks them.
inline Limits gpu_golden_limits_tf32() {
  Limits l{};
  l.logits = 4e-3;
  l.loss = 1.2e-3;
  l.grad = kNotCompared;
  l.bn_stats = 2.5e-3;
  l.step_losses = kNotCompared;
  l.final_params = kNotCompared;
  l.eval_logits = kNotCompared;
  return l;
}

// The 20-step training curve (tests/common/training_curve.h), GPU against the CPU's im2col + gemm run: the first
// loss, the second, and the whole curve. Seen with TF32 off: 1e-7, 2.1e-5, 1.4e-3 (the reference loops' order:
// 0, 7.7e-6, 1.3e-3); with TF32: 4.9e-5, 1.2e-3, 4.6e-3. Limits 3 to 5x those.
inline CurveLimits gpu_curve_limits(bool tf32) {
  return tf32 ? CurveLimits{2e-4, 5e-3, 1.5e-2} : CurveLimits{5e-6, 1e-4, 5e-3};
}

}  // namespace bts::test
