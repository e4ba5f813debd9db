// Every CUDA op against its CPU reference on fresh random inputs of several shapes (odd sizes included): the
// forward output and the gradient of every input for a random upstream gradient. The GPU tape's arena is
// poisoned (NaN bytes) so an element a kernel forgets to write fails the comparison. TF32 is off here: the
// GPU must match the CPU to fp32 rounding (relative error limit 1e-5 unless stated).
#include <cstdio>
#include <functional>

#include "engine/ops.h"
#include "kernels/cuda/context.h"
#include "kernels/cpu/sgd.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/sgd.h"
#include "tests/common/helpers.h"
#include "tests/gpu/gpu_helpers.h"

using namespace bts;
using bts::test::random_tensor;
using bts::test::rel_error;

namespace {

using bts::test::Tf32Scope;

using Builder = std::function<Var(Tape&, std::vector<Var>&, Device)>;

// Runs f on the CPU and on the GPU with the same inputs and upstream gradient; compares everything.
void compare(const std::string& name, std::vector<Tensor> inputs, const std::vector<bool>& wrt, const Builder& f,
             double limit = 1e-5) {
  Tf32Scope tf32_off(false);
  Rng rng(99);
  Tape cpu(Device::CPU), gpu(Device::CUDA);
  gpu.arena().set_poison(true);
  std::vector<Var> vc, vg;
  std::vector<Tensor> dev_inputs;
  for (auto& t : inputs) dev_inputs.push_back(t.to(Device::CUDA));
  for (size_t i = 0; i < inputs.size(); ++i) {
    vc.push_back(cpu.leaf(inputs[i], wrt[i]));
    vg.push_back(gpu.leaf(dev_inputs[i], wrt[i]));
  }
  Var yc = f(cpu, vc, Device::CPU);
  Var yg = f(gpu, vg, Device::CUDA);
  const double ey = rel_error(yg.value().to_double_vector(), yc.value().to_double_vector());
  std::printf("  %-40s forward rel error %.2e (limit %.0e)\n", name.c_str(), ey, limit);
  CHECK_MESSAGE(ey < limit, name << " forward rel error " << ey);
  if (!yc.requires_grad()) return;  // e.g. BN in eval mode records no backward
  Tensor R = random_tensor(yc.shape(), DType::F32, rng);
  cpu.backward(yc, R);
  gpu.backward(yg, R.to(Device::CUDA));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!wrt[i]) continue;
    const double eg = rel_error(gpu.grad(vg[i]).to_double_vector(), cpu.grad(vc[i]).to_double_vector());
    std::printf("  %-40s grad of input %zu rel error %.2e\n", name.c_str(), i, eg);
    CHECK_MESSAGE(eg < limit, name << " gradient of input " << i << " rel error " << eg);
  }
}

}  // namespace

TEST_SUITE("ops_gpu") {

TEST_CASE("conv2d (cuDNN) vs CPU: 3x3 and 1x1, strides 1 and 2, odd sizes") {
  struct G { int64_t N, C, H, W, K, R, stride, pad; };
  for (G g : {G{2, 3, 7, 9, 5, 3, 1, 1}, G{3, 8, 9, 9, 16, 3, 2, 1}, G{2, 16, 8, 8, 32, 1, 2, 0},
              G{4, 64, 5, 5, 64, 3, 1, 1}, G{1, 3, 32, 32, 64, 3, 1, 1}, G{2, 5, 6, 7, 3, 1, 1, 0}}) {
    Rng rng(1, static_cast<uint64_t>(g.H * 100 + g.K));
    std::vector<Tensor> in;
    in.push_back(random_tensor({g.N, g.C, g.H, g.W}, DType::F32, rng));
    in.push_back(random_tensor({g.K, g.C, g.R, g.R}, DType::F32, rng, 0.2));
    const int stride = static_cast<int>(g.stride), pad = static_cast<int>(g.pad);
    compare("conv2d " + shape_str(in[0].shape()) + " k" + std::to_string(g.R) + " s" + std::to_string(stride), std::move(in),
            {true, true}, [&](Tape& t, std::vector<Var>& v, Device) { return conv2d(t, v[0], v[1], stride, pad); });
    Tf32Scope off(false);  // the plan just used, for diagnosing a failure on the first GPU run
    std::printf("    cuDNN algorithms: %s\n",
                kernels::cuda::conv2d_algorithms(kernels::cuda::current_context(),
                                                 kernels::ConvShape{g.N, g.C, g.H, g.W, g.K, g.R, g.R, g.stride, g.pad})
                    .c_str());
  }
}

// The path taken when cuDNN's heuristics offer nothing the rule accepts (kernels/common/conv_algo_choice.h): the
// implicit-GEMM fallbacks must run and match the CPU, with TF32 off and on.
TEST_CASE("conv2d with the fallback algorithms (heuristics bypassed) vs CPU") {
  struct HeuristicsOff {
    HeuristicsOff() { kernels::cuda::set_conv_heuristics_enabled(false); }
    ~HeuristicsOff() { kernels::cuda::set_conv_heuristics_enabled(true); }
  } off;
  struct G { int64_t N, C, H, W, K, R, stride, pad; };
  for (G g : {G{2, 3, 7, 9, 5, 3, 1, 1}, G{3, 8, 9, 9, 16, 3, 2, 1}, G{2, 16, 8, 8, 32, 1, 2, 0}}) {
    Rng rng(7, static_cast<uint64_t>(g.H * 100 + g.K));
    std::vector<Tensor> in;
    in.push_back(random_tensor({g.N, g.C, g.H, g.W}, DType::F32, rng));
    in.push_back(random_tensor({g.K, g.C, g.R, g.R}, DType::F32, rng, 0.2));
    const int stride = static_cast<int>(g.stride), pad = static_cast<int>(g.pad);
    compare("conv2d fallback " + shape_str(in[0].shape()) + " k" + std::to_string(g.R) + " s" + std::to_string(stride),
            std::move(in), {true, true},
            [&](Tape& t, std::vector<Var>& v, Device) { return conv2d(t, v[0], v[1], stride, pad); });
    const kernels::ConvShape shape{g.N, g.C, g.H, g.W, g.K, g.R, g.R, g.stride, g.pad};
    for (bool tf32 : {false, true}) {
      Tf32Scope mode(tf32);
      kernels::cuda::Context& ctx = kernels::cuda::current_context();
      std::printf("    TF32 %s: %s\n", tf32 ? "on" : "off", kernels::cuda::conv2d_algorithms(ctx, shape).c_str());
      CHECK(kernels::cuda::conv2d_algorithms_are_fallbacks(ctx, shape));
    }
  }
}

// conv_algorithms: measured. cudnnFind times the algorithms; the fastest acceptable must still match the CPU, and
// the choices must export as records that, imported, are what the next plans use.
TEST_CASE("conv2d with measured algorithms (cudnnFind) vs CPU; the choices export and import") {
  struct Measured {
    Measured() { kernels::cuda::set_conv_algo_search(kernels::cuda::ConvAlgoSearch::Measure); }
    ~Measured() { kernels::cuda::set_conv_algo_search(kernels::cuda::ConvAlgoSearch::Heuristic); }
  } measured;
  struct G { int64_t N, C, H, W, K, R, stride, pad; };
  for (G g : {G{3, 8, 9, 9, 16, 3, 2, 1}, G{4, 64, 16, 16, 64, 3, 1, 1}}) {
    Rng rng(11, static_cast<uint64_t>(g.H * 100 + g.K));
    std::vector<Tensor> in;
    in.push_back(random_tensor({g.N, g.C, g.H, g.W}, DType::F32, rng));
    in.push_back(random_tensor({g.K, g.C, g.R, g.R}, DType::F32, rng, 0.2));
    const int stride = static_cast<int>(g.stride), pad = static_cast<int>(g.pad);
    compare("conv2d measured " + shape_str(in[0].shape()) + " k" + std::to_string(g.R), std::move(in), {true, true},
            [&](Tape& t, std::vector<Var>& v, Device) { return conv2d(t, v[0], v[1], stride, pad); });
  }
  const std::string text = kernels::cuda::conv2d_export_algorithms();
  std::printf("    measured choices:\n%s", text.c_str());
  CHECK(text.find("conv 4 64 16 16 64 3 3 1 1 0 |") != std::string::npos);  // TF32 off in compare()
  // Imported records are used as they are: a record naming algorithm 0 of each pass with FMA math (3) for a new shape.
  kernels::cuda::conv2d_import_algorithms("conv 2 4 6 6 4 3 3 1 1 0 | fwd 0 3 | bwd-data 0 3 | bwd-filter 0 3\n",
                                          "test");
  Tf32Scope off(false);
  const kernels::ConvShape s{2, 4, 6, 6, 4, 3, 3, 1, 1};
  CHECK(kernels::cuda::conv2d_algorithms(kernels::cuda::current_context(), s) ==
        "fwd 0 (fma), bwd-data 0 (fma), bwd-filter 0 (fma)");
  kernels::cuda::conv2d_import_algorithms("", "test");
}

TEST_CASE("batchnorm2d training and eval vs CPU") {
  // The last two split each channel into several chunks of images (4 and 8 blocks per channel on an H200:
  // kernels/cuda/batchnorm.cu), whose partial sums must add up as one.
  for (Shape s : {Shape{4, 3, 5, 7}, Shape{128, 64, 4, 4}, Shape{3, 17, 1, 1}, Shape{64, 8, 16, 16},
                  Shape{32, 4, 32, 32}}) {
    Rng rng(2, static_cast<uint64_t>(s[1]));
    std::vector<Tensor> in;
    in.push_back(random_tensor(s, DType::F32, rng, 3.0));
    in.push_back(random_tensor({s[1]}, DType::F32, rng));
    in.push_back(random_tensor({s[1]}, DType::F32, rng));
    Tensor rm = random_tensor({s[1]}, DType::F32, rng, 0.1), rv = Tensor::empty({s[1]}, DType::F32);
    rv.fill(0.7);
    Tensor rm_gpu = rm.to(Device::CUDA), rv_gpu = rv.to(Device::CUDA);
    for (bool training : {true, false}) {
      compare(std::string("batchnorm2d ") + (training ? "train " : "eval ") + shape_str(s),
              [&] {
                std::vector<Tensor> copy;
                for (auto& t : in) copy.push_back(t.clone());
                return copy;
              }(),
              {true, training, training}, [&](Tape& t, std::vector<Var>& v, Device d) {
                return batchnorm2d(t, v[0], v[1], v[2], d == Device::CPU ? rm : rm_gpu, d == Device::CPU ? rv : rv_gpu,
                                   training, 0.1, 1e-5);
              });
      // The running statistics must have moved identically on both sides.
      CHECK(rel_error(rm_gpu.to_double_vector(), rm.to_double_vector()) < 1e-5);
      CHECK(rel_error(rv_gpu.to_double_vector(), rv.to_double_vector()) < 1e-5);
    }
  }
}

// The fused forms (the CUDA backend overrides the Backend's compositions): BN + ReLU in training, and the residual
// join relu(a + b), also with one value on both sides (its gradient accumulates).
TEST_CASE("batchnorm2d + ReLU and add + ReLU, fused on the GPU, vs CPU") {
  for (Shape s : {Shape{4, 3, 5, 7}, Shape{64, 8, 16, 16}}) {
    Rng rng(5, static_cast<uint64_t>(s[1]));
    std::vector<Tensor> in;
    in.push_back(random_tensor(s, DType::F32, rng, 3.0));
    in.push_back(random_tensor({s[1]}, DType::F32, rng));
    in.push_back(random_tensor({s[1]}, DType::F32, rng));
    Tensor rm = Tensor::zeros({s[1]}, DType::F32), rv = Tensor::empty({s[1]}, DType::F32);
    rv.fill(1.0);
    Tensor rm_gpu = rm.to(Device::CUDA), rv_gpu = rv.to(Device::CUDA);
    compare("batchnorm2d_relu train " + shape_str(s), std::move(in), {true, true, true},
            [&](Tape& t, std::vector<Var>& v, Device d) {
              return batchnorm2d_relu(t, v[0], v[1], v[2], d == Device::CPU ? rm : rm_gpu,
                                      d == Device::CPU ? rv : rv_gpu, true, 0.1, 1e-5);
            });
    CHECK(rel_error(rm_gpu.to_double_vector(), rm.to_double_vector()) < 1e-5);
    CHECK(rel_error(rv_gpu.to_double_vector(), rv.to_double_vector()) < 1e-5);
    Rng r2(6);
    auto randoms = [&](int count) {
      std::vector<Tensor> v;
      for (int i = 0; i < count; ++i) v.push_back(random_tensor(s, DType::F32, r2));
      return v;
    };
    compare("add_relu " + shape_str(s), randoms(2), {true, true},
            [](Tape& t, std::vector<Var>& v, Device) { return add_relu(t, v[0], v[1]); });
    compare("add_relu(a, a) " + shape_str(s), randoms(1), {true},
            [](Tape& t, std::vector<Var>& v, Device) { return add_relu(t, v[0], v[0]); });
    compare("add_relu, one input without gradient " + shape_str(s), randoms(2), {false, true},
            [](Tape& t, std::vector<Var>& v, Device) { return add_relu(t, v[0], v[1]); });
  }
}

// Inputs far from zero (mean 4096, std 1): statistics rounded to float before normalising would move x - mean by
// up to half an ulp of 4096 (2.4e-4), 24x this suite's 1e-5 limit; the GPU keeps them in double, as the CPU does.
TEST_CASE("batchnorm2d with a large input mean: statistics kept in double on the GPU as on the CPU") {
  const Shape s{8, 6, 5, 5};
  Rng rng(21);
  std::vector<Tensor> in;
  in.push_back(random_tensor(s, DType::F32, rng));
  for (int64_t i = 0; i < in[0].numel(); ++i) in[0].data<float>()[i] += 4096.f;
  in.push_back(random_tensor({s[1]}, DType::F32, rng));
  in.push_back(random_tensor({s[1]}, DType::F32, rng));
  Tensor rm = Tensor::zeros({s[1]}, DType::F32), rv = Tensor::empty({s[1]}, DType::F32);
  rv.fill(1.0);
  Tensor rm_gpu = rm.to(Device::CUDA), rv_gpu = rv.to(Device::CUDA);
  compare("batchnorm2d train, mean 4096 " + shape_str(s), std::move(in), {true, true, true},
          [&](Tape& t, std::vector<Var>& v, Device d) {
            return batchnorm2d(t, v[0], v[1], v[2], d == Device::CPU ? rm : rm_gpu, d == Device::CPU ? rv : rv_gpu,
                               true, 0.1, 1e-5);
          });
  CHECK(rel_error(rm_gpu.to_double_vector(), rm.to_double_vector()) < 1e-6);
  CHECK(rel_error(rv_gpu.to_double_vector(), rv.to_double_vector()) < 1e-5);
}

// The SGD update is written with separately rounded operations (kernels/common/rounded.h): the GPU's weights and
// momentum must equal the CPU's bit for bit, step after step, with and without Nesterov and weight decay.
TEST_CASE("SGD step on the GPU equals the CPU's bit for bit") {
  const int64_t n = 100003;
  for (bool nesterov : {false, true})
    for (double wd : {0.0, 5e-4}) {
      Rng rng(22, static_cast<uint64_t>(nesterov * 2 + (wd > 0)));
      Tensor w = random_tensor({n}, DType::F32, rng), buf = Tensor::zeros({n}, DType::F32);
      Tensor w_d = w.to(Device::CUDA), buf_d = buf.to(Device::CUDA);
      const kernels::SgdHyper h{0.9, wd, nesterov};
      const double lr = 0.1;
      Tensor lr_d = Tensor::from_vector<double>({lr}, {1}).to(Device::CUDA);
      for (int step = 0; step < 3; ++step) {
        Tensor g = random_tensor({n}, DType::F32, rng, 0.5);
        Tensor g_d = g.to(Device::CUDA);
        kernels::cpu::sgd_step<float>(n, w.data<float>(), g.data<float>(), buf.data<float>(), &lr, h);
        kernels::cuda::sgd_step(kernels::cuda::current_context().stream(), n, w_d.data<float>(), g_d.data<float>(),
                                buf_d.data<float>(), lr_d.data<double>(), h);
      }
      const std::vector<double> wc = w.to_double_vector(), wg = w_d.to_double_vector();
      const std::vector<double> bc = buf.to_double_vector(), bg = buf_d.to_double_vector();
      int64_t differ = 0;
      for (int64_t i = 0; i < n; ++i) differ += wc[i] != wg[i] || bc[i] != bg[i];
      std::printf("  sgd nesterov %d wd %g: %lld of %lld elements differ in bits\n", nesterov, wd,
                  static_cast<long long>(differ), static_cast<long long>(n));
      CHECK(differ == 0);
    }
}

TEST_CASE("relu, add (including one value used twice), global average pool vs CPU") {
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{128, 512, 4, 4}, Shape{1, 1, 1, 1}}) {
    Rng rng(3, static_cast<uint64_t>(s[1]));
    std::vector<Tensor> in;
    in.push_back(random_tensor(s, DType::F32, rng));
    in.push_back(random_tensor(s, DType::F32, rng));
    auto copies = [&] {
      std::vector<Tensor> c;
      for (auto& t : in) c.push_back(t.clone());
      return c;
    };
    compare("relu " + shape_str(s), copies(), {true, false},
            [](Tape& t, std::vector<Var>& v, Device) { return relu(t, v[0]); });
    compare("add " + shape_str(s), copies(), {true, true},
            [](Tape& t, std::vector<Var>& v, Device) { return add(t, v[0], v[1]); });
    compare("add(relu(a), a) " + shape_str(s), copies(), {true, false},
            [](Tape& t, std::vector<Var>& v, Device) { return add(t, relu(t, v[0]), v[0]); });
    compare("global_avg_pool " + shape_str(s), copies(), {true, false},
            [](Tape& t, std::vector<Var>& v, Device) { return global_avg_pool(t, v[0]); });
  }
}

TEST_CASE("accumulating backward paths: one value feeding two ops (BN, conv, pool, linear)") {
  Rng rng(6);
  std::vector<Tensor> in;
  in.push_back(random_tensor({4, 8, 5, 5}, DType::F32, rng));
  in.push_back(random_tensor({8, 8, 3, 3}, DType::F32, rng, 0.2));
  in.push_back(random_tensor({8}, DType::F32, rng));
  in.push_back(random_tensor({8}, DType::F32, rng));
  in.push_back(random_tensor({8, 8}, DType::F32, rng, 0.3));
  in.push_back(random_tensor({8}, DType::F32, rng));
  Tensor rm = Tensor::zeros({8}, DType::F32), rv = Tensor::empty({8}, DType::F32);
  rv.fill(1.0);
  Tensor rm_gpu = rm.to(Device::CUDA), rv_gpu = rv.to(Device::CUDA);
  compare("x + conv(x) + bn(x), pooled twice, linear twice", std::move(in), {true, true, true, true, true, true},
          [&](Tape& t, std::vector<Var>& v, Device d) {
            Var bn = batchnorm2d(t, v[0], v[2], v[3], d == Device::CPU ? rm : rm_gpu, d == Device::CPU ? rv : rv_gpu,
                                 true, 0.1, 1e-5);
            Var h = add(t, add(t, v[0], conv2d(t, v[0], v[1], 1, 1)), bn);  // x's gradient accumulates 3 times
            Var bn2 = batchnorm2d(t, h, v[2], v[3], d == Device::CPU ? rm : rm_gpu, d == Device::CPU ? rv : rv_gpu,
                                  true, 0.1, 1e-5);  // gamma, beta reused: their gradients accumulate
            Var p = global_avg_pool(t, h);
            Var p2 = global_avg_pool(t, bn2);
            Var z = add(t, linear(t, p, v[4], v[5]), linear(t, p2, v[4], v[5]));  // W, b accumulate
            return linear(t, z, v[4], v[5]);
          });
}

TEST_CASE("linear (cuBLAS) vs CPU") {
  for (auto s : {Shape{128, 512, 10}, Shape{3, 7, 5}, Shape{33, 64, 100}}) {
    Rng rng(4, static_cast<uint64_t>(s[2]));
    std::vector<Tensor> in;
    in.push_back(random_tensor({s[0], s[1]}, DType::F32, rng));
    in.push_back(random_tensor({s[2], s[1]}, DType::F32, rng, 0.1));
    in.push_back(random_tensor({s[2]}, DType::F32, rng));
    compare("linear " + shape_str(s), std::move(in), {true, true, true},
            [](Tape& t, std::vector<Var>& v, Device) { return linear(t, v[0], v[1], v[2]); });
  }
}

TEST_CASE("cross-entropy with hard, mixup-style and RICAP-style targets and sample weights vs CPU") {
  for (int64_t M : {1, 2, 4}) {
    const int64_t N = 37, K = 100;
    Rng rng(5, static_cast<uint64_t>(M));
    Targets cpu_t;
    cpu_t.labels = Tensor::empty({N, M}, DType::I32);
    cpu_t.label_weights = Tensor::empty({N, M}, DType::F32);
    cpu_t.sample_weights = Tensor::empty({N}, DType::F32);
    for (int64_t i = 0; i < N; ++i) {
      float sum = 0;
      for (int64_t m = 0; m < M; ++m) {
        cpu_t.labels.data<int32_t>()[i * M + m] = static_cast<int32_t>(rng.below(K));
        sum += cpu_t.label_weights.data<float>()[i * M + m] = static_cast<float>(rng.uniform());
      }
      for (int64_t m = 0; m < M; ++m) cpu_t.label_weights.data<float>()[i * M + m] /= sum;
      cpu_t.sample_weights.data<float>()[i] = i % 3 == 0 ? 0.f : static_cast<float>(rng.uniform());
    }
    Targets gpu_t;
    gpu_t.labels = cpu_t.labels.to(Device::CUDA);
    gpu_t.label_weights = cpu_t.label_weights.to(Device::CUDA);
    gpu_t.sample_weights = cpu_t.sample_weights.to(Device::CUDA);
    std::vector<Tensor> in;
    in.push_back(random_tensor({N, K}, DType::F32, rng, 3.0));
    Tensor loss_cpu, loss_gpu, prob_cpu, prob_gpu;
    compare("cross_entropy M=" + std::to_string(M), std::move(in), {true},
            [&](Tape& t, std::vector<Var>& v, Device d) {
              CrossEntropyResult r = cross_entropy(t, v[0], d == Device::CPU ? cpu_t : gpu_t);
              (d == Device::CPU ? loss_cpu : loss_gpu) = r.loss_per_sample->clone();
              (d == Device::CPU ? prob_cpu : prob_gpu) = r.prob_per_target->clone();
              return r.total;
            });
    CHECK(rel_error(loss_gpu.to_double_vector(), loss_cpu.to_double_vector()) < 1e-5);
    CHECK(rel_error(prob_gpu.to_double_vector(), prob_cpu.to_double_vector()) < 1e-5);
  }
}

}  // TEST_SUITE
