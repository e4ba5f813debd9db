// The fast CPU paths against the reference loops, forward and backward: im2col + OpenBLAS gemm in float and
// double, oneDNN's convolutions and the vectorised BatchNorm in float, on shapes that include odd sizes, strides,
// 1x1 kernels, batches that split into unequal chunks and accumulation into existing gradients; and the oneDNN
// and BatchNorm results bit for bit the same on 1, 2, 3 and 4 threads.
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_dnnl.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/pool.h"
#include "tests/common/helpers.h"

using namespace bts;
using namespace bts::kernels;
using bts::test::random_tensor;
using bts::test::rel_error;

namespace {
template <typename T> void check_conv(const ConvShape& s, double tol) {
  Rng rng(21, static_cast<uint64_t>(s.H * 1000 + s.C * 10 + s.stride));
  const DType dt = DTypeOf<T>::value;
  Tensor x = random_tensor({s.N, s.C, s.H, s.W}, dt, rng), w = random_tensor({s.K, s.C, s.R, s.S}, dt, rng);
  Tensor dy = random_tensor({s.N, s.K, s.P(), s.Q()}, dt, rng);
  Tensor y_ref = Tensor::empty(dy.shape(), dt), y_fast = Tensor::empty(dy.shape(), dt);
  cpu::conv2d_forward_ref<T>(s, x.data<T>(), w.data<T>(), y_ref.data<T>());
  cpu::conv2d_forward_gemm<T>(s, x.data<T>(), w.data<T>(), y_fast.data<T>());
  for (bool acc : {false, true}) {
    // Start both gradients from the same non-zero contents so "accumulate" is checked, not just "overwrite".
    Tensor dx_ref = random_tensor(x.shape(), dt, rng), dw_ref = random_tensor(w.shape(), dt, rng);
    Tensor dx_fast = dx_ref.clone(), dw_fast = dw_ref.clone();
    cpu::conv2d_backward_data_ref<T>(s, dy.data<T>(), w.data<T>(), dx_ref.data<T>(), acc);
    cpu::conv2d_backward_data_gemm<T>(s, dy.data<T>(), w.data<T>(), dx_fast.data<T>(), acc);
    cpu::conv2d_backward_filter_ref<T>(s, x.data<T>(), dy.data<T>(), dw_ref.data<T>(), acc);
    cpu::conv2d_backward_filter_gemm<T>(s, x.data<T>(), dy.data<T>(), dw_fast.data<T>(), acc);
    CHECK(rel_error(dx_fast, dx_ref) < tol);
    CHECK(rel_error(dw_fast, dw_ref) < tol);
  }
  const double e = rel_error(y_fast, y_ref);
  std::printf("  conv %s N%lld C%lld %lldx%lld K%lld R%lld s%lld p%lld: forward rel error %.1e\n",
              dtype_name(dt), (long long)s.N, (long long)s.C, (long long)s.H, (long long)s.W, (long long)s.K,
              (long long)s.R, (long long)s.stride, (long long)s.pad, e);
  CHECK(e < tol);
}

// The convolution shapes every fast path is checked on.
const ConvShape kConvShapes[] = {
    {2, 3, 8, 8, 4, 3, 3, 1, 1},   {3, 5, 7, 9, 6, 3, 3, 2, 1},  {2, 4, 6, 6, 8, 1, 1, 1, 0},
    {2, 4, 7, 7, 8, 1, 1, 2, 0},   {1, 1, 28, 28, 8, 3, 3, 1, 1}, {4, 16, 5, 5, 32, 3, 3, 2, 1},
    {1, 3, 5, 4, 2, 3, 3, 1, 0},   {2, 2, 3, 3, 2, 3, 3, 1, 2},   {19, 16, 6, 6, 32, 3, 3, 1, 1},
    {13, 32, 9, 9, 16, 3, 3, 2, 1}, {11, 8, 8, 8, 64, 1, 1, 2, 0}, {9, 3, 10, 10, 16, 3, 3, 1, 1},
    // Deep-layer shapes (large weights, small images): the backward filter splits by output channels there.
    {4, 64, 2, 2, 64, 3, 3, 1, 1},  {6, 32, 3, 3, 128, 3, 3, 2, 1}};

// Where element (n, c, i) of a float [N, C, H, W] tensor (i = h * W + w) lives in each layout.
int64_t offset_in(cpu::DnnlAct l, int64_t N, int64_t C, int64_t HW, int64_t n, int64_t c, int64_t i) {
  (void)N;
  if (l == cpu::DnnlAct::nhwc) return (n * HW + i) * C + c;
  if (l == cpu::DnnlAct::blocked16) return ((n * (C / 16) + c / 16) * HW + i) * 16 + c % 16;
  return (n * C + c) * HW + i;
}
// NCHW -> layout l, and back (the shape stays NCHW, as the engine keeps it).
Tensor to_layout(const Tensor& t, cpu::DnnlAct l) {
  const int64_t N = t.dim(0), C = t.dim(1), HW = t.dim(2) * t.dim(3);
  Tensor o = Tensor::empty(t.shape(), DType::F32);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i)
        o.data<float>()[offset_in(l, N, C, HW, n, c, i)] = t.data<float>()[(n * C + c) * HW + i];
  return o;
}
Tensor from_layout(const Tensor& t, cpu::DnnlAct l) {
  const int64_t N = t.dim(0), C = t.dim(1), HW = t.dim(2) * t.dim(3);
  Tensor o = Tensor::empty(t.shape(), DType::F32);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i)
        o.data<float>()[(n * C + c) * HW + i] = t.data<float>()[offset_in(l, N, C, HW, n, c, i)];
  return o;
}
Tensor to_nhwc(const Tensor& t) { return to_layout(t, cpu::DnnlAct::nhwc); }
Tensor from_nhwc(const Tensor& t) { return from_layout(t, cpu::DnnlAct::nhwc); }

// oneDNN's three convolutions on one shape with the given activation layouts, from gradients that start as
// `dx0`/`dw0`; inputs and results in NCHW (converted around the calls).
struct DnnlResult {
  Tensor y, dx, dw;
};
DnnlResult run_dnnl(const ConvShape& s, cpu::DnnlLayouts l, const Tensor& x, const Tensor& w, const Tensor& dy,
                    const Tensor& dx0, const Tensor& dw0, bool acc) {
  const Tensor xl = to_layout(x, l.x);
  const Tensor dyl = to_layout(dy, l.y);
  Tensor y = Tensor::empty(dy.shape(), DType::F32), dx = to_layout(dx0, l.x), dw = dw0.clone();
  cpu::conv2d_forward_dnnl(s, l, xl.data<float>(), w.data<float>(), y.data<float>());
  cpu::conv2d_backward_data_dnnl(s, l, dyl.data<float>(), w.data<float>(), dx.data<float>(), acc);
  cpu::conv2d_backward_filter_dnnl(s, l, xl.data<float>(), dyl.data<float>(), dw.data<float>(), acc);
  return {from_layout(y, l.y), from_layout(dx, l.x), std::move(dw)};
}

template <typename T> std::vector<T> values(const Tensor& t) { return std::vector<T>(t.data<T>(), t.data<T>() + t.numel()); }
}  // namespace

TEST_SUITE("fast_vs_ref") {

TEST_CASE("conv2d oneDNN path equals the reference in every layout, and is the same on any thread count") {
  if (!cpu::dnnl_available()) {
    MESSAGE("SKIPPED: built without oneDNN");
    return;
  }
  for (const auto& s : kConvShapes) {
    Rng rng(23, static_cast<uint64_t>(s.N * 100 + s.C));
    Tensor x = random_tensor({s.N, s.C, s.H, s.W}, DType::F32, rng), w = random_tensor({s.K, s.C, s.R, s.S}, DType::F32, rng);
    Tensor dy = random_tensor({s.N, s.K, s.P(), s.Q()}, DType::F32, rng);
    Tensor y_ref = Tensor::empty(dy.shape(), DType::F32);
    cpu::conv2d_forward_ref<float>(s, x.data<float>(), w.data<float>(), y_ref.data<float>());
    for (bool acc : {false, true}) {
      Tensor dx0 = random_tensor(x.shape(), DType::F32, rng), dw0 = random_tensor(w.shape(), DType::F32, rng);
      Tensor dx_ref = dx0.clone(), dw_ref = dw0.clone();
      cpu::conv2d_backward_data_ref<float>(s, dy.data<float>(), w.data<float>(), dx_ref.data<float>(), acc);
      cpu::conv2d_backward_filter_ref<float>(s, x.data<float>(), dy.data<float>(), dw_ref.data<float>(), acc);
      // Every pair of layouts, nChw16c only where that side's channels are a multiple of 16.
      std::vector<cpu::DnnlLayouts> pairs;
      for (cpu::DnnlAct a : {cpu::DnnlAct::nchw, cpu::DnnlAct::nhwc, cpu::DnnlAct::blocked16})
        for (cpu::DnnlAct b : {cpu::DnnlAct::nchw, cpu::DnnlAct::nhwc, cpu::DnnlAct::blocked16})
          if ((a != cpu::DnnlAct::blocked16 || s.C % 16 == 0) && (b != cpu::DnnlAct::blocked16 || s.K % 16 == 0))
            pairs.push_back({a, b});
      for (const cpu::DnnlLayouts l : pairs) {
        const DnnlResult r = run_dnnl(s, l, x, w, dy, dx0, dw0, acc);
        INFO("shape N" << s.N << " C" << s.C << " " << s.H << "x" << s.W << " K" << s.K << " R" << s.R
                       << " stride " << s.stride << " accumulate " << acc << " layouts in " << int(l.x) << " out "
                       << int(l.y));
        CHECK(rel_error(r.y, y_ref) < 1e-5);
        CHECK(rel_error(r.dx, dx_ref) < 1e-5);
        CHECK(rel_error(r.dw, dw_ref) < 1e-5);
#ifdef _OPENMP
        const int prev = omp_get_max_threads();
        for (int threads : {1, 3, 4}) {
          omp_set_num_threads(threads);
          const DnnlResult t = run_dnnl(s, l, x, w, dy, dx0, dw0, acc);
          INFO("threads " << threads << " vs " << prev);
          CHECK(values<float>(t.y) == values<float>(r.y));
          CHECK(values<float>(t.dx) == values<float>(r.dx));
          CHECK(values<float>(t.dw) == values<float>(r.dw));
        }
        omp_set_num_threads(prev);
#endif
      }
    }
  }
}

TEST_CASE("BatchNorm + ReLU fused on NHWC and nChw16c: bit for bit the two ops one after the other") {
  using cpu::BatchNormShape;
  for (const BatchNormShape s : {BatchNormShape{6, 16, 25}, BatchNormShape{3, 32, 9}, BatchNormShape{128, 8, 49}}) {
    for (cpu::DnnlAct layout : {cpu::DnnlAct::nhwc, cpu::DnnlAct::blocked16}) {
      if (layout == cpu::DnnlAct::blocked16 && s.C % 16 != 0) continue;
      INFO("N" << s.N << " C" << s.C << " HW" << s.HW << " layout " << int(layout));
      const bool nhwc = layout == cpu::DnnlAct::nhwc;
      auto train = nhwc ? cpu::batchnorm_forward_train_nhwc : cpu::batchnorm_forward_train_blocked16;
      auto back = nhwc ? cpu::batchnorm_backward_nhwc : cpu::batchnorm_backward_blocked16;
      Rng rng(25, static_cast<uint64_t>(s.C + int(layout)));
      const Shape xs{s.N, s.C, s.HW, 1}, cs{s.C};
      Tensor x = random_tensor(xs, DType::F32, rng), dy = random_tensor(xs, DType::F32, rng);
      Tensor gamma = random_tensor(cs, DType::F32, rng), beta = random_tensor(cs, DType::F32, rng);
      Tensor rm = Tensor::zeros(cs, DType::F32), rv = Tensor::zeros(cs, DType::F32);
      Tensor mean = Tensor::empty(cs, DType::F32), invstd = Tensor::empty(cs, DType::F32);
      // Composed: BatchNorm, then ReLU; backward: ReLU's, then BatchNorm's.
      Tensor bn = Tensor::empty(xs, DType::F32), y1 = Tensor::empty(xs, DType::F32);
      train(s, x.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f, 0.1f, bn.data<float>(),
            mean.data<float>(), invstd.data<float>(), rm.data<float>(), rv.data<float>(), false);
      cpu::relu_forward<float>(x.numel(), bn.data<float>(), y1.data<float>());
      Tensor g = Tensor::empty(xs, DType::F32), dx1 = random_tensor(xs, DType::F32, rng), dx2 = dx1.clone();
      Tensor dg1 = Tensor::empty(cs, DType::F32), db1 = Tensor::empty(cs, DType::F32);
      Tensor dg2 = Tensor::empty(cs, DType::F32), db2 = Tensor::empty(cs, DType::F32);
      cpu::relu_backward<float>(x.numel(), y1.data<float>(), dy.data<float>(), g.data<float>(), false);
      back(s, x.data<float>(), g.data<float>(), gamma.data<float>(), mean.data<float>(), invstd.data<float>(),
           dx1.data<float>(), dg1.data<float>(), db1.data<float>(), true, false, nullptr);
      // Fused.
      Tensor y2 = Tensor::empty(xs, DType::F32), rm2 = Tensor::zeros(cs, DType::F32), rv2 = Tensor::zeros(cs, DType::F32);
      Tensor mean2 = Tensor::empty(cs, DType::F32), invstd2 = Tensor::empty(cs, DType::F32);
      train(s, x.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f, 0.1f, y2.data<float>(),
            mean2.data<float>(), invstd2.data<float>(), rm2.data<float>(), rv2.data<float>(), true);
      back(s, x.data<float>(), dy.data<float>(), gamma.data<float>(), mean.data<float>(), invstd.data<float>(),
           dx2.data<float>(), dg2.data<float>(), db2.data<float>(), true, false, y1.data<float>());
      CHECK(values<float>(y2) == values<float>(y1));
      CHECK(values<float>(dx2) == values<float>(dx1));
      CHECK(values<float>(dg2) == values<float>(dg1));
      CHECK(values<float>(db2) == values<float>(db1));
      CHECK(values<float>(rv2) == values<float>(rv));
    }
  }
}

TEST_CASE("add + ReLU fused: bit for bit add, ReLU and the gradient copies in turn") {
  Rng rng(26);
  const int64_t n = 70000;  // more than one parallel block
  Tensor a = random_tensor({n}, DType::F32, rng), b = random_tensor({n}, DType::F32, rng), dy = random_tensor({n}, DType::F32, rng);
  Tensor s1 = Tensor::empty({n}, DType::F32), y1 = Tensor::empty({n}, DType::F32), y2 = Tensor::empty({n}, DType::F32);
  cpu::add_forward<float>(n, a.data<float>(), b.data<float>(), s1.data<float>());
  cpu::relu_forward<float>(n, s1.data<float>(), y1.data<float>());
  cpu::add_relu_forward<float>(n, a.data<float>(), b.data<float>(), y2.data<float>());
  CHECK(values<float>(y2) == values<float>(y1));
  for (bool acc : {false, true}) {
    Tensor g = Tensor::empty({n}, DType::F32), da1 = random_tensor({n}, DType::F32, rng), db1 = random_tensor({n}, DType::F32, rng);
    Tensor da2 = da1.clone(), db2 = db1.clone(), same1 = da1.clone(), same2 = da1.clone();
    cpu::relu_backward<float>(n, y1.data<float>(), dy.data<float>(), g.data<float>(), false);
    cpu::copy_grad<float>(n, g.data<float>(), da1.data<float>(), acc);
    cpu::copy_grad<float>(n, g.data<float>(), db1.data<float>(), acc);
    cpu::add_relu_backward<float>(n, y1.data<float>(), dy.data<float>(), da2.data<float>(), acc, db2.data<float>(), acc);
    CHECK(values<float>(da2) == values<float>(da1));
    CHECK(values<float>(db2) == values<float>(db1));
    // a + a: the one gradient receives g twice.
    cpu::copy_grad<float>(n, g.data<float>(), same1.data<float>(), acc);
    cpu::copy_grad<float>(n, g.data<float>(), same1.data<float>(), true);
    cpu::add_relu_backward<float>(n, y1.data<float>(), dy.data<float>(), same2.data<float>(), acc, same2.data<float>(), true);
    CHECK(values<float>(same2) == values<float>(same1));
  }
}

TEST_CASE("BatchNorm fast f32 path equals the reference, and is the same on any thread count") {
  using cpu::BatchNormShape;
  for (const BatchNormShape s : {BatchNormShape{4, 3, 25}, BatchNormShape{128, 8, 49}, BatchNormShape{2, 17, 7},
                                 BatchNormShape{16, 64, 16}, BatchNormShape{1, 2, 1}, BatchNormShape{5, 32, 9}}) {
    Rng rng(24, static_cast<uint64_t>(s.C));
    const Shape xs{s.N, s.C, s.HW}, cs{s.C};
    // A mean far from zero, where a one-pass variance or an uncentred gradient would lose digits.
    Tensor x = random_tensor(xs, DType::F32, rng, 3.0), dy = random_tensor(xs, DType::F32, rng);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] += 20.f;
    Tensor gamma = random_tensor(cs, DType::F32, rng), beta = random_tensor(cs, DType::F32, rng);
    Tensor rm = random_tensor(cs, DType::F32, rng), rv = random_tensor(cs, DType::F32, rng);
    for (int64_t c = 0; c < s.C; ++c) rv.data<float>()[c] = 1.f + std::abs(rv.data<float>()[c]);
    INFO("N" << s.N << " C" << s.C << " HW" << s.HW);
    auto forward = [&](bool fast, Tensor& y, Tensor& mean, Tensor& invstd, Tensor& rm1, Tensor& rv1) {
      (fast ? cpu::batchnorm_forward_train_fast : cpu::batchnorm_forward_train<float>)(
          s, x.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f, 0.1f, y.data<float>(),
          mean.data<float>(), invstd.data<float>(), rm1.data<float>(), rv1.data<float>());
    };
    Tensor y1 = Tensor::empty(xs, DType::F32), m1 = Tensor::empty(cs, DType::F32), i1 = Tensor::empty(cs, DType::F32);
    Tensor y2 = y1.clone(), m2 = m1.clone(), i2 = i1.clone(), rm1 = rm.clone(), rv1 = rv.clone(), rm2 = rm.clone(),
           rv2 = rv.clone();
    forward(false, y1, m1, i1, rm1, rv1);
    forward(true, y2, m2, i2, rm2, rv2);
    CHECK(rel_error(y2, y1) < 1e-6);
    CHECK(rel_error(m2, m1) < 1e-7);
    CHECK(rel_error(i2, i1) < 1e-6);
    CHECK(rel_error(rm2, rm1) < 1e-7);
    CHECK(rel_error(rv2, rv1) < 1e-6);
    Tensor e1 = Tensor::empty(xs, DType::F32), e2 = Tensor::empty(xs, DType::F32);
    cpu::batchnorm_forward_eval<float>(s, x.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                       rm.data<float>(), rv.data<float>(), e1.data<float>());
    cpu::batchnorm_forward_eval_fast(s, x.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                     rm.data<float>(), rv.data<float>(), e2.data<float>());
    CHECK(rel_error(e2, e1) < 1e-6);
    {
      const Shape x4{s.N, s.C, s.HW, 1};
      Tensor xn = to_nhwc(x.reshaped(x4)), yn = Tensor::empty(x4, DType::F32), en = Tensor::empty(x4, DType::F32);
      Tensor mn = m1.clone(), in = i1.clone(), rmn = rm.clone(), rvn = rv.clone();
      cpu::batchnorm_forward_train_nhwc(s, xn.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f, 0.1f,
                                        yn.data<float>(), mn.data<float>(), in.data<float>(), rmn.data<float>(),
                                        rvn.data<float>());
      CHECK(rel_error(from_nhwc(yn), y1.reshaped(x4)) < 1e-6);
      CHECK(rel_error(mn, m1) < 1e-7);
      CHECK(rel_error(in, i1) < 1e-6);
      CHECK(rel_error(rmn, rm1) < 1e-7);
      CHECK(rel_error(rvn, rv1) < 1e-6);
      cpu::batchnorm_forward_eval_nhwc(s, xn.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                       rm.data<float>(), rv.data<float>(), en.data<float>());
      CHECK(rel_error(from_nhwc(en), e1.reshaped(x4)) < 1e-6);
      if (s.C % 16 == 0) {  // nChw16c: the same values again
        const cpu::DnnlAct B = cpu::DnnlAct::blocked16;
        Tensor xb = to_layout(x.reshaped(x4), B), yb = Tensor::empty(x4, DType::F32), eb = Tensor::empty(x4, DType::F32);
        Tensor mb = m1.clone(), ib = i1.clone(), rmb = rm.clone(), rvb = rv.clone();
        cpu::batchnorm_forward_train_blocked16(s, xb.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                               0.1f, yb.data<float>(), mb.data<float>(), ib.data<float>(),
                                               rmb.data<float>(), rvb.data<float>());
        CHECK(rel_error(from_layout(yb, B), y1.reshaped(x4)) < 1e-6);
        CHECK(rel_error(mb, m1) < 1e-7);
        CHECK(rel_error(ib, i1) < 1e-6);
        CHECK(rel_error(rvb, rv1) < 1e-6);
        cpu::batchnorm_forward_eval_blocked16(s, xb.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                              rm.data<float>(), rv.data<float>(), eb.data<float>());
        CHECK(rel_error(from_layout(eb, B), e1.reshaped(x4)) < 1e-6);
        Tensor dyb = to_layout(dy.reshaped(x4), B), dxb = Tensor::zeros(x4, DType::F32), dxr = Tensor::zeros(x4, DType::F32);
        Tensor dgb = Tensor::empty({s.C}, DType::F32), dbb = Tensor::empty({s.C}, DType::F32);
        Tensor dgr = Tensor::empty({s.C}, DType::F32), dbr = Tensor::empty({s.C}, DType::F32);
        cpu::batchnorm_backward<float>(s, x.data<float>(), dy.data<float>(), gamma.data<float>(), m1.data<float>(),
                                       i1.data<float>(), dxr.data<float>(), dgr.data<float>(), dbr.data<float>(),
                                       false, false);
        cpu::batchnorm_backward_blocked16(s, xb.data<float>(), dyb.data<float>(), gamma.data<float>(),
                                          m1.data<float>(), i1.data<float>(), dxb.data<float>(), dgb.data<float>(),
                                          dbb.data<float>(), false, false);
        CHECK(rel_error(from_layout(dxb, B), dxr) < 1e-5);
        CHECK(rel_error(dgb, dgr) < 1e-6);
        CHECK(rel_error(dbb, dbr) < 1e-6);
        Tensor pb = Tensor::empty({s.N, s.C}, DType::F32), pr = Tensor::empty({s.N, s.C}, DType::F32);
        cpu::global_avg_pool_forward<float>(s.N, s.C, s.HW, x.data<float>(), pr.data<float>());
        cpu::global_avg_pool_forward_blocked16<float>(s.N, s.C, s.HW, xb.data<float>(), pb.data<float>());
        CHECK(values<float>(pb) == values<float>(pr));
        Tensor gr = random_tensor(x4, DType::F32, rng), gb = to_layout(gr, B);
        cpu::global_avg_pool_backward<float>(s.N, s.C, s.HW, pr.data<float>(), gr.data<float>(), true);
        cpu::global_avg_pool_backward_blocked16<float>(s.N, s.C, s.HW, pr.data<float>(), gb.data<float>(), true);
        CHECK(values<float>(from_layout(gb, B)) == values<float>(gr));
#ifdef _OPENMP
        const int prev = omp_get_max_threads();
        omp_set_num_threads(3);
        Tensor y3 = Tensor::empty(x4, DType::F32), rm3 = rm.clone(), rv3 = rv.clone();
        cpu::batchnorm_forward_train_blocked16(s, xb.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f,
                                               0.1f, y3.data<float>(), mb.data<float>(), ib.data<float>(),
                                               rm3.data<float>(), rv3.data<float>());
        omp_set_num_threads(prev);
        CHECK(values<float>(y3) == values<float>(yb));
        CHECK(values<float>(rv3) == values<float>(rvb));
#endif
      }
      // Pooling over the same data: the NHWC sums run in the NCHW order, so the bits are the same.
      Tensor p1 = Tensor::empty({s.N, s.C}, DType::F32), p2 = Tensor::empty({s.N, s.C}, DType::F32);
      cpu::global_avg_pool_forward<float>(s.N, s.C, s.HW, x.data<float>(), p1.data<float>());
      cpu::global_avg_pool_forward_nhwc<float>(s.N, s.C, s.HW, xn.data<float>(), p2.data<float>());
      CHECK(values<float>(p2) == values<float>(p1));
      Tensor g1 = random_tensor(x4, DType::F32, rng), g2 = to_nhwc(g1);
      cpu::global_avg_pool_backward<float>(s.N, s.C, s.HW, p1.data<float>(), g1.data<float>(), true);
      cpu::global_avg_pool_backward_nhwc<float>(s.N, s.C, s.HW, p1.data<float>(), g2.data<float>(), true);
      CHECK(values<float>(from_nhwc(g2)) == values<float>(g1));
#ifdef _OPENMP
      const int prev = omp_get_max_threads();
      omp_set_num_threads(3);
      Tensor y3 = Tensor::empty(x4, DType::F32), rm3 = rm.clone(), rv3 = rv.clone();
      cpu::batchnorm_forward_train_nhwc(s, xn.data<float>(), gamma.data<float>(), beta.data<float>(), 1e-5f, 0.1f,
                                        y3.data<float>(), mn.data<float>(), in.data<float>(), rm3.data<float>(),
                                        rv3.data<float>());
      omp_set_num_threads(prev);
      CHECK(values<float>(y3) == values<float>(yn));
      CHECK(values<float>(rv3) == values<float>(rvn));
#endif
    }
    for (bool acc : {false, true}) {
      Tensor dx1 = random_tensor(xs, DType::F32, rng), dg1 = random_tensor(cs, DType::F32, rng),
             db1 = random_tensor(cs, DType::F32, rng);
      Tensor dx2 = dx1.clone(), dg2 = dg1.clone(), db2 = db1.clone(), dx3 = dx1.clone(), dg3 = dg1.clone(),
             db3 = db1.clone();
      cpu::batchnorm_backward<float>(s, x.data<float>(), dy.data<float>(), gamma.data<float>(), m1.data<float>(),
                                     i1.data<float>(), dx1.data<float>(), dg1.data<float>(), db1.data<float>(), acc,
                                     acc);
      cpu::batchnorm_backward_fast(s, x.data<float>(), dy.data<float>(), gamma.data<float>(), m1.data<float>(),
                                   i1.data<float>(), dx2.data<float>(), dg2.data<float>(), db2.data<float>(), acc,
                                   acc);
      CHECK(rel_error(dx2, dx1) < 1e-5);
      CHECK(rel_error(dg2, dg1) < 1e-6);
      CHECK(rel_error(db2, db1) < 1e-6);
      // Channels-last: the same values from the NHWC kernels (data transposed in and out).
      const Shape x4{s.N, s.C, s.HW, 1};
      Tensor xn = to_nhwc(x.reshaped(x4)), dyn = to_nhwc(dy.reshaped(x4));
      Tensor dxn = to_nhwc(dx3.reshaped(x4)), dgn = dg3.clone(), dbn = db3.clone();
      cpu::batchnorm_backward_nhwc(s, xn.data<float>(), dyn.data<float>(), gamma.data<float>(), m1.data<float>(),
                                   i1.data<float>(), dxn.data<float>(), dgn.data<float>(), dbn.data<float>(), acc,
                                   acc);
      CHECK(rel_error(from_nhwc(dxn), dx1.reshaped(x4)) < 1e-5);
      CHECK(rel_error(dgn, dg1) < 1e-6);
      CHECK(rel_error(dbn, db1) < 1e-6);
#ifdef _OPENMP
      const int prev = omp_get_max_threads();
      omp_set_num_threads(3);
      cpu::batchnorm_backward_fast(s, x.data<float>(), dy.data<float>(), gamma.data<float>(), m1.data<float>(),
                                   i1.data<float>(), dx3.data<float>(), dg3.data<float>(), db3.data<float>(), acc,
                                   acc);
      omp_set_num_threads(prev);
      CHECK(values<float>(dx3) == values<float>(dx2));
      CHECK(values<float>(dg3) == values<float>(dg2));
#endif
    }
  }
}

TEST_CASE("conv2d gemm path equals the reference") {
  for (const auto& s : kConvShapes) {
    check_conv<float>(s, 1e-5);
    check_conv<double>(s, 1e-13);
  }
}

TEST_CASE("linear gemm path equals the reference") {
  for (auto s : {cpu::LinearShape{4, 7, 3}, cpu::LinearShape{1, 64, 10}, cpu::LinearShape{33, 17, 100}}) {
    Rng rng(22, static_cast<uint64_t>(s.I));
    Tensor x = random_tensor({s.N, s.I}, DType::F64, rng), w = random_tensor({s.O, s.I}, DType::F64, rng);
    Tensor b = random_tensor({s.O}, DType::F64, rng), dy = random_tensor({s.N, s.O}, DType::F64, rng);
    Tensor y1 = Tensor::empty({s.N, s.O}, DType::F64), y2 = Tensor::empty({s.N, s.O}, DType::F64);
    cpu::linear_forward_ref<double>(s, x.data<double>(), w.data<double>(), b.data<double>(), y1.data<double>());
    cpu::linear_forward_gemm<double>(s, x.data<double>(), w.data<double>(), b.data<double>(), y2.data<double>());
    CHECK(rel_error(y2, y1) < 1e-13);
    for (bool acc : {false, true}) {
      Tensor dx1 = random_tensor(x.shape(), DType::F64, rng), dw1 = random_tensor(w.shape(), DType::F64, rng);
      Tensor db1 = random_tensor(b.shape(), DType::F64, rng);
      Tensor dx2 = dx1.clone(), dw2 = dw1.clone(), db2 = db1.clone();
      cpu::linear_backward_ref<double>(s, x.data<double>(), w.data<double>(), dy.data<double>(), dx1.data<double>(),
                                       dw1.data<double>(), db1.data<double>(), acc, acc);
      cpu::linear_backward_gemm<double>(s, x.data<double>(), w.data<double>(), dy.data<double>(),
                                        dx2.data<double>(), dw2.data<double>(), db2.data<double>(), acc, acc);
      CHECK(rel_error(dx2, dx1) < 1e-13);
      CHECK(rel_error(dw2, dw1) < 1e-13);
      CHECK(rel_error(db2, db1) < 1e-13);
    }
  }
}

}  // TEST_SUITE
