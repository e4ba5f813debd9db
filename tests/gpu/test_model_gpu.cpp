// Whole-model checks on the GPU: the PyTorch golden comparison (TF32 off and on), and 20 SGD steps of a
// reduced-width ResNet-18 giving the same losses on the GPU as on the CPU.
#include <cstdio>

#include "kernels/cuda/context.h"
#include "tests/common/golden.h"

using namespace bts;
using bts::test::Limits;
using bts::test::run_against_golden;

TEST_SUITE("model_gpu") {

TEST_CASE("ResNet-18 (reduced width) matches PyTorch on the GPU, fp32 with TF32 off") {
  kernels::cuda::current_context().set_allow_tf32(false);
  // Same order as the CPU f32 limits, 2.5x wider: cuDNN's algorithms sum in other orders than im2col + gemm.
  run_against_golden(DType::F32, CpuAlgo::Gemm, Limits{1e-5, 2.5e-6, 5e-5, 5e-6, 2.5e-6, 2.5e-5}, Device::CUDA);
  kernels::cuda::current_context().set_allow_tf32(true);
}

TEST_CASE("ResNet-18 (reduced width) matches PyTorch on the GPU with TF32 (10-bit mantissa products)") {
  kernels::cuda::current_context().set_allow_tf32(true);
  // TF32 rounds each product's inputs to ~1e-3 relative; sums over hundreds of terms average it down.
  run_against_golden(DType::F32, CpuAlgo::Gemm, Limits{1e-2, 1e-3, 3e-2, 1e-2, 3e-3, 2e-2}, Device::CUDA);
}

// Training amplifies rounding: the CPU's two correct fp32 paths (reference loops, im2col + gemm) differ by 1.3e-3
// over these 20 losses (7.7e-6 at step 1, 2.8e-4 at step 2). So the first two losses are compared tightly and the
// whole curve loosely.
TEST_CASE("20 training steps: GPU losses follow the CPU's") {
  for (bool tf32 : {false, true}) {
    kernels::cuda::current_context().set_allow_tf32(tf32);
    std::vector<double> losses[2];
    for (Device dev : {Device::CPU, Device::CUDA}) {
      ResNet18 model({0.25, 10, 3});
      model.finalize(DType::F32, dev, 11);
      Rng rng(12);
      Tensor x = bts::test::random_tensor({32, 3, 32, 32}, DType::F32, rng).to(dev);
      Tensor labels = Tensor::empty({32}, DType::I32);
      for (int i = 0; i < 32; ++i) labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
      Targets tg = Targets::hard(labels, DType::F32, dev);
      Sgd opt(model.params(), SgdOptions{0.9, 5e-4, false});
      Tape tape(dev);
      for (int step = 0; step < 20; ++step) {
        tape.clear();
        model.zero_grad();
        CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, tape.input(x)), tg);
        tape.backward(ce.total);
        opt.step(0.05);
        losses[dev == Device::CUDA].push_back(ce.total.value().to_double_vector()[0]);
      }
    }
    const double err = bts::test::rel_error(losses[1], losses[0]);
    const double first = std::abs(losses[1][0] - losses[0][0]) / losses[0][0];
    const double second = std::abs(losses[1][1] - losses[0][1]) / losses[0][1];
    std::printf("  20 steps, TF32 %s: loss CPU %.5f -> %.5f, GPU %.5f -> %.5f; step 1 %.1e, step 2 %.1e, curve %.1e\n",
                tf32 ? "on" : "off", losses[0].front(), losses[0].back(), losses[1].front(), losses[1].back(), first,
                second, err);
    CHECK(first < (tf32 ? 2e-2 : 1e-4));
    CHECK(second < (tf32 ? 2e-2 : 1e-3));
    CHECK(err < (tf32 ? 5e-2 : 1e-2));
    CHECK(losses[1].back() < losses[1].front());
  }
  kernels::cuda::current_context().set_allow_tf32(true);
}

}  // TEST_SUITE
