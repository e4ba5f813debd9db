// `batchnorm: cudnn` (kernels/cuda/cudnn_batchnorm.h) against our BatchNorm kernels on the GPU, bf16 and f32
// channels last, with and without the fused ReLU: outputs, the three gradients and the running statistics within
// each precision's rounding (the two sum in different orders, so not bit for bit), and the cuDNN path really taken
// (its call count moves; with it off, it stays).
#include <cstdio>

#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/ops.h"
#include "tests/common/helpers.h"
#include "tests/gpu/gpu_helpers.h"

using namespace bts;
using bts::test::random_tensor;
using bts::test::rel_error;

namespace {

struct BatchNormResult {
  Tensor y, dx, dgamma, dbeta, running_mean, running_var;
};

BatchNormResult run_batchnorm(bool cudnn, DType dtype, bool relu, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& dy) {
  Backend& be = backend(Device::CUDA);
  be.set_batchnorm_cudnn(cudnn);
  const int64_t C = x.dim(1);
  Tensor rm = Tensor::zeros({C}, DType::F32, Device::CUDA), rv = Tensor::empty({C}, DType::F32);
  rv.fill(1.0);
  rv = rv.to(Device::CUDA);
  Tape t(Device::CUDA);
  Var vx = t.leaf(x.to(Device::CUDA), true), vg = t.leaf(gamma.to(Device::CUDA), true);
  Var vb = t.leaf(beta.to(Device::CUDA), true);
  Var xin = relayout(t, cast(t, vx, dtype), Layout::NHWC);  // channels last: what cuDNN's persistent kernels take
  Var y = relu ? batchnorm2d_relu(t, xin, vg, vb, rm, rv, true, 0.1, 1e-5)
               : batchnorm2d(t, xin, vg, vb, rm, rv, true, 0.1, 1e-5);
  Var out = relayout(t, cast(t, y, DType::F32), Layout::NCHW);
  t.backward(out, dy.to(Device::CUDA));
  BatchNormResult r{out.value().to(Device::CPU), t.grad(vx).to(Device::CPU), t.grad(vg).to(Device::CPU),
                    t.grad(vb).to(Device::CPU), rm.to(Device::CPU), rv.to(Device::CPU)};
  be.set_batchnorm_cudnn(false);
  return r;
}

}  // namespace

TEST_SUITE("cudnn_batchnorm_gpu") {

TEST_CASE("cuDNN's BatchNorm (+ReLU), bf16 and f32 channels last, equals ours within the precision's rounding") {
  bts::test::Tf32Scope tf32_off(false);
  auto& cuda = dynamic_cast<CudaBackend&>(backend(Device::CUDA));
  Rng rng(23);
  const Tensor x = random_tensor({8, 32, 12, 12}, DType::F32, rng, 2.0);
  const Tensor gamma = random_tensor({32}, DType::F32, rng), beta = random_tensor({32}, DType::F32, rng);
  const Tensor dy = random_tensor({8, 32, 12, 12}, DType::F32, rng);
  for (DType dtype : {DType::BF16, DType::F32})
    for (bool relu : {false, true}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(relu);
      const int64_t before = cuda.cudnn_batchnorm_calls();
      const BatchNormResult own = run_batchnorm(false, dtype, relu, x, gamma, beta, dy);
      CHECK(cuda.cudnn_batchnorm_calls() == before);
      const BatchNormResult dnn = run_batchnorm(true, dtype, relu, x, gamma, beta, dy);
      CHECK(cuda.cudnn_batchnorm_calls() == before + 2);  // its forward and its backward
      // bf16 outputs round to 8 bits: a sum in another order moves some by one bf16 step (2^-8 relative); the
      // gradients inherit that. f32: the two sums' orders only.
      const bool b16 = dtype == DType::BF16;
      const double ey = rel_error(dnn.y, own.y), edx = rel_error(dnn.dx, own.dx);
      const double eg = rel_error(dnn.dgamma, own.dgamma), eb = rel_error(dnn.dbeta, own.dbeta);
      std::printf("  cuDNN vs own BatchNorm (%s%s): y %.1e dx %.1e dgamma %.1e dbeta %.1e\n", dtype_name(dtype),
                  relu ? " + ReLU" : "", ey, edx, eg, eb);
      CHECK(ey < (b16 ? 1e-2 : 1e-5));
      CHECK(edx < (b16 ? 3e-2 : 1e-4));
      CHECK(eg < (b16 ? 3e-2 : 1e-4));
      CHECK(eb < (b16 ? 3e-2 : 1e-4));
      CHECK(rel_error(dnn.running_mean, own.running_mean) < 1e-5);
      CHECK(rel_error(dnn.running_var, own.running_var) < 1e-5);  // both move toward the unbiased variance
    }
}

}  // TEST_SUITE
