// Finite-difference gradient checks in double for every op with a backward, through the tape, on both CPU
// implementations (reference loops and im2col + gemm).
#include "engine/ops.h"
#include "tests/common/helpers.h"

using namespace bts;
using bts::test::gradcheck;
using bts::test::AlgoScope;
using bts::test::random_tensor;

TEST_SUITE("gradcheck") {

TEST_CASE("conv2d: input and weight gradients, several geometries, both CPU algorithms") {
  struct G { int64_t N, C, H, W, K, R, stride, pad; };
  const G geoms[] = {{2, 3, 5, 6, 4, 3, 1, 1}, {2, 2, 7, 5, 3, 3, 2, 1}, {1, 3, 4, 4, 2, 1, 1, 0},
                     {2, 4, 5, 5, 3, 1, 2, 0}, {1, 2, 6, 6, 2, 3, 2, 0}};
  for (CpuAlgo algo : {CpuAlgo::Reference, CpuAlgo::Gemm}) {
    AlgoScope scope(algo);
    for (const G& g : geoms) {
      Rng rng(11, static_cast<uint64_t>(g.H * 100 + g.K));
      std::vector<Tensor> in;
      in.push_back(random_tensor({g.N, g.C, g.H, g.W}, DType::F64, rng));
      in.push_back(random_tensor({g.K, g.C, g.R, g.R}, DType::F64, rng));
      const int stride = static_cast<int>(g.stride), pad = static_cast<int>(g.pad);
      gradcheck(std::string("conv2d ") + cpu_algo_name(algo),
                [&](Tape& t, std::vector<Var>& v) { return conv2d(t, v[0], v[1], stride, pad); }, in, {true, true});
    }
  }
}

TEST_CASE("batchnorm2d and batchnorm2d_relu (training): input, gamma and beta gradients") {
  Rng rng(12);
  for (Shape s : {Shape{4, 3, 3, 2}, Shape{3, 2, 1, 2}, Shape{3, 5, 2, 3}}) {
    std::vector<Tensor> in;
    in.push_back(random_tensor(s, DType::F64, rng, 2.0));
    in.push_back(random_tensor({s[1]}, DType::F64, rng));
    in.push_back(random_tensor({s[1]}, DType::F64, rng));
    Tensor rm = Tensor::zeros({s[1]}, DType::F64), rv = Tensor::zeros({s[1]}, DType::F64);
    rv.fill(1.0);
    gradcheck("batchnorm2d train",
              [&](Tape& t, std::vector<Var>& v) { return batchnorm2d(t, v[0], v[1], v[2], rm, rv, true, 0.1, 1e-5); },
              in, {true, true, true});
    gradcheck("batchnorm2d_relu train",
              [&](Tape& t, std::vector<Var>& v) {
                return batchnorm2d_relu(t, v[0], v[1], v[2], rm, rv, true, 0.1, 1e-5);
              },
              in, {true, true, true});
  }
}

// A residual block's end as one op: gradients of x, the shortcut z, gamma and beta; and the op equals
// add_relu(batchnorm2d(x), z) bit for bit, forward and backward, also when z's gradient already holds a value.
TEST_CASE("batchnorm2d_add_relu (training): x, shortcut, gamma and beta gradients; equal to its composition") {
  Rng rng(15);
  for (Shape s : {Shape{4, 3, 3, 2}, Shape{3, 5, 2, 3}}) {
    std::vector<Tensor> in;
    in.push_back(random_tensor(s, DType::F64, rng, 2.0));
    in.push_back(random_tensor(s, DType::F64, rng));
    in.push_back(random_tensor({s[1]}, DType::F64, rng));
    in.push_back(random_tensor({s[1]}, DType::F64, rng));
    Tensor rm = Tensor::zeros({s[1]}, DType::F64), rv = Tensor::zeros({s[1]}, DType::F64);
    rv.fill(1.0);
    gradcheck("batchnorm2d_add_relu train",
              [&](Tape& t, std::vector<Var>& v) {
                return batchnorm2d_add_relu(t, v[0], v[1], v[2], v[3], rm, rv, true, 0.1, 1e-5);
              },
              in, {true, true, true, true});
  }
  const Shape s{6, 8, 5, 5};
  const Tensor x = random_tensor(s, DType::F32, rng, 2.0), z = random_tensor(s, DType::F32, rng);
  const Tensor g = random_tensor({8}, DType::F32, rng), b = random_tensor({8}, DType::F32, rng);
  const Tensor dy = random_tensor(s, DType::F32, rng);
  auto run = [&](bool fused, std::vector<Tensor>& out) {
    Tensor rm = Tensor::zeros({8}, DType::F32), rv = Tensor::zeros({8}, DType::F32);
    rv.fill(1.0);
    Tape t(Device::CPU);
    Var vx = t.leaf(x, true), vz = t.leaf(z, true), vg = t.leaf(g, true), vb = t.leaf(b, true);
    // z also feeds a second branch, so its gradient is accumulated into by one of the two.
    Var y = fused ? batchnorm2d_add_relu(t, vx, vz, vg, vb, rm, rv, true, 0.1, 1e-5)
                  : add_relu(t, batchnorm2d(t, vx, vg, vb, rm, rv, true, 0.1, 1e-5), vz);
    Var both = add(t, y, relu(t, vz));
    t.backward(both, dy);
    out.clear();
    for (const Tensor* r : std::initializer_list<const Tensor*>{&y.value(), &t.grad(vx), &t.grad(vz), &t.grad(vg),
                                                               &t.grad(vb), &rm, &rv})
      out.push_back(r->clone());
  };
  std::vector<Tensor> fused, composed;
  run(true, fused);
  run(false, composed);
  const char* names[] = {"y", "dx", "dz", "dgamma", "dbeta", "running mean", "running var"};
  for (size_t i = 0; i < fused.size(); ++i) {
    CAPTURE(names[i]);
    CHECK(fused[i].to_double_vector() == composed[i].to_double_vector());
  }
}

TEST_CASE("relu, add, global_avg_pool") {
  Rng rng(13);
  std::vector<Tensor> in;
  in.push_back(random_tensor({2, 3, 4, 5}, DType::F64, rng));
  // Keep inputs away from the kink at 0, where a finite difference straddles two slopes.
  for (int64_t i = 0; i < in[0].numel(); ++i) {
    double& x = in[0].data<double>()[i];
    if (std::abs(x) < 1e-3) x = 0.5;
  }
  gradcheck("relu", [](Tape& t, std::vector<Var>& v) { return relu(t, v[0]); }, in, {true});
  in.push_back(random_tensor({2, 3, 4, 5}, DType::F64, rng));
  gradcheck("add", [](Tape& t, std::vector<Var>& v) { return add(t, v[0], v[1]); }, in, {true, true});
  gradcheck("add (same input twice)", [](Tape& t, std::vector<Var>& v) { return add(t, v[0], v[0]); }, in,
            {true, false});
  gradcheck("global_avg_pool", [](Tape& t, std::vector<Var>& v) { return global_avg_pool(t, v[0]); }, in,
            {true, false});
  // relu(a + b) fused: keep the sums away from the kink too.
  for (int64_t i = 0; i < in[0].numel(); ++i) {
    const double sum = in[0].data<double>()[i] + in[1].data<double>()[i];
    if (std::abs(sum) < 1e-3) in[1].data<double>()[i] += 0.5;
  }
  gradcheck("add_relu", [](Tape& t, std::vector<Var>& v) { return add_relu(t, v[0], v[1]); }, in, {true, true});
  gradcheck("add_relu (same input twice)", [](Tape& t, std::vector<Var>& v) { return add_relu(t, v[0], v[0]); }, in,
            {true, false});
}

TEST_CASE("linear: input, weight and bias gradients, both CPU algorithms") {
  for (CpuAlgo algo : {CpuAlgo::Reference, CpuAlgo::Gemm}) {
    AlgoScope scope(algo);
    Rng rng(14);
    std::vector<Tensor> in;
    in.push_back(random_tensor({5, 7}, DType::F64, rng));
    in.push_back(random_tensor({3, 7}, DType::F64, rng));
    in.push_back(random_tensor({3}, DType::F64, rng));
    gradcheck("linear", [](Tape& t, std::vector<Var>& v) { return linear(t, v[0], v[1], v[2]); }, in,
              {true, true, true});
  }
}

TEST_CASE("cross_entropy: hard labels, soft (mixup/RICAP-style) targets and per-sample weights") {
  Rng rng(15);
  const int64_t N = 5, K = 4;
  std::vector<Tensor> in;
  in.push_back(random_tensor({N, K}, DType::F64, rng, 2.0));
  for (int64_t M : {1, 2, 4}) {
    Targets tg;
    tg.labels = Tensor::empty({N, M}, DType::I32);
    tg.label_weights = Tensor::empty({N, M}, DType::F64);
    tg.sample_weights = Tensor::empty({N}, DType::F64);
    for (int64_t i = 0; i < N; ++i) {
      double sum = 0;
      for (int64_t m = 0; m < M; ++m) {
        tg.labels.data<int32_t>()[i * M + m] = static_cast<int32_t>(rng.below(K));
        sum += tg.label_weights.data<double>()[i * M + m] = rng.uniform();
      }
      for (int64_t m = 0; m < M; ++m) tg.label_weights.data<double>()[i * M + m] /= sum;
      tg.sample_weights.data<double>()[i] = rng.uniform();  // e.g. OSGD's 1/q on some, 0 on others
    }
    tg.sample_weights.data<double>()[1] = 0.0;
    gradcheck("cross_entropy M=" + std::to_string(M),
              [&](Tape& t, std::vector<Var>& v) { return cross_entropy(t, v[0], tg).total; }, in, {true});
  }
}

TEST_CASE("whole TinyNet-like graph: conv-BN-ReLU-residual-pool-linear-CE, gradients w.r.t. the input") {
  // A composite graph checks the tape's accumulation when one value feeds two ops (the residual branch).
  Rng rng(16);
  std::vector<Tensor> in;
  in.push_back(random_tensor({3, 2, 5, 5}, DType::F64, rng));
  in.push_back(random_tensor({3, 2, 3, 3}, DType::F64, rng, 0.5));
  in.push_back(random_tensor({3, 3, 3, 3}, DType::F64, rng, 0.5));
  in.push_back(random_tensor({4, 3}, DType::F64, rng));
  in.push_back(random_tensor({4}, DType::F64, rng));
  Tensor g1 = Tensor::empty({3}, DType::F64), b1 = Tensor::zeros({3}, DType::F64);
  g1.fill(1.0);
  Tensor rm = Tensor::zeros({3}, DType::F64), rv = Tensor::zeros({3}, DType::F64);
  rv.fill(1.0);
  Tensor labels = Tensor::from_vector<int32_t>({0, 3, 1}, {3});
  Targets tg = Targets::hard(labels, DType::F64, Device::CPU);
  gradcheck("composite graph",
            [&](Tape& t, std::vector<Var>& v) {
              Var gv = t.input(g1), bv = t.input(b1);
              Var h = relu(t, batchnorm2d(t, conv2d(t, v[0], v[1], 1, 1), gv, bv, rm, rv, true, 0.1, 1e-5));
              Var h2 = conv2d(t, h, v[2], 1, 1);
              Var r = add(t, h2, h);  // h feeds both the conv and the residual
              return cross_entropy(t, linear(t, global_avg_pool(t, r), v[3], v[4]), tg).total;
            },
            in, {true, true, true, true, true}, 1e-6);
}

}  // TEST_SUITE
