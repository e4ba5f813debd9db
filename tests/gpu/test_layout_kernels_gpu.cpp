// The layout- and precision-generic CUDA kernels called directly (BatchNorm, global average pooling, the element-wise
// ops): channels-last fp32 against the GPU's own NCHW results (only the summation order differs), bf16 against the
// CPU reference run on the widened inputs and rounded once, which is what a bf16 kernel promises ("the fp32 kernel
// between casts"). Sums in another order may land a value on the neighbouring bf16, so BatchNorm and the pool's
// forward allow one bf16 ulp; the element-wise ops and the pool's backward do the same float operations as the CPU
// and must agree bit for bit. Outputs start poisoned (all bits set: NaN) so an element a kernel skips fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <type_traits>
#include <vector>

#include "engine/rng.h"
#include "kernels/common/bf16.h"
#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/pool.h"
#include "tests/gpu/gpu_helpers.h"

namespace kc = bts::kernels::cuda;
namespace kcpu = bts::kernels::cpu;
using bts::kernels::bf16_round;
using bts::kernels::bf16_to_f32;
using bts::test::bits_differ;
using bts::test::widen;

namespace {

cudaStream_t stream() { return kc::current_context().stream(); }

// A device array on the suite's stream; get() waits for the stream.
template <typename T>
struct DevBuf {
  T* p = nullptr;
  size_t n;
  explicit DevBuf(size_t count) : n(count) {
    BTS_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p), std::max<size_t>(n, 1) * sizeof(T)));
  }
  explicit DevBuf(const std::vector<T>& v) : DevBuf(v.size()) { upload(v); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void upload(const std::vector<T>& v) {
    REQUIRE(v.size() == n);
    BTS_CUDA_CHECK(cudaMemcpyAsync(p, v.data(), n * sizeof(T), cudaMemcpyHostToDevice, stream()));
    BTS_CUDA_CHECK(cudaStreamSynchronize(stream()));
  }
  void poison() { BTS_CUDA_CHECK(cudaMemsetAsync(p, 0xff, n * sizeof(T), stream())); }
  std::vector<T> get() const {
    std::vector<T> v(n);
    BTS_CUDA_CHECK(cudaMemcpyAsync(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost, stream()));
    BTS_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return v;
  }
};

// fp32 values as the kernels' element type T (bf16: rounded), and back (exact).
template <typename T>
std::vector<T> from_f32(const std::vector<float>& v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else {
    std::vector<uint16_t> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = bf16_round(v[i]);
    return out;
  }
}
template <typename T>
std::vector<float> to_f32(const std::vector<T>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = widen(v[i]);
  return out;
}

// [N, C, HW] between NCHW and NHWC.
template <typename X>
std::vector<X> relayout(const std::vector<X>& v, int64_t N, int64_t C, int64_t HW, bool to_nhwc) {
  std::vector<X> out(v.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t hw = 0; hw < HW; ++hw) {
        const int64_t nchw = (n * C + c) * HW + hw, nhwc = (n * HW + hw) * C + c;
        if (to_nhwc) out[nhwc] = v[nchw];
        else out[nchw] = v[nhwc];
      }
  return out;
}

std::vector<float> randn(bts::Rng& rng, int64_t n, double scale = 1.0, double shift = 0.0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(shift + scale * rng.normal());
  return v;
}

// ||a - b|| / ||b||.
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// Elements of got farther from want than one bf16 ulp (2^-7 relative at worst), with 1e-5 absolute slack for values
// near zero, where fp32 rounding differences are absolute. A NaN anywhere counts.
int64_t bf16_off_by_more_than_an_ulp(const std::vector<uint16_t>& got, const std::vector<uint16_t>& want,
                                     const char* what) {
  REQUIRE(got.size() == want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float a = bf16_to_f32(got[i]), b = bf16_to_f32(want[i]);
    const bool ok = std::fabs(a - b) <= std::ldexp(1.0f, -7) * std::max(std::fabs(a), std::fabs(b)) + 1e-5f;
    if (!ok && bad++ < 3) std::printf("    %s[%zu]: GPU %.8g, reference %.8g\n", what, i, a, b);
  }
  return bad;
}


// ---- BatchNorm ----

constexpr float kEps = 1e-5f, kMomentum = 0.1f;

struct BnShape {
  int64_t N, C, HW;
};
// C = 3; C = 64 with N = 4, HW = 64 (two chunks channels last); C = 130 and C = 40 (a partial channel tile, the
// latter with 16 chunks channels last); HW = 1.
const BnShape kBnShapes[] = {{2, 3, 35}, {4, 64, 64}, {3, 130, 10}, {16, 17, 1}, {32, 40, 64}};

// All NCHW, fp32. mean/invstd: the statistics every backward below is given (the CPU's, from x).
struct BnIn {
  std::vector<float> x, dy, relu_y, dx0, gamma, beta, rm0, rv0, dg0, db0, mean, invstd;
};
// Backward variant v: relu_y given when v / 2, accumulating (dx and the parameters) when v % 2.
template <typename T>
struct BnOut {
  std::vector<T> y, y_relu, y_eval, dx[4];
  std::vector<float> mean, invstd, rm, rv, dgamma[4], dbeta[4];
};

BnIn bn_inputs(const BnShape& sh) {
  bts::Rng rng(41, static_cast<uint64_t>(sh.C * 1000 + sh.HW));
  const int64_t n = sh.N * sh.C * sh.HW;
  BnIn in{randn(rng, n, 3.0, 1.0), randn(rng, n), randn(rng, n), randn(rng, n), randn(rng, sh.C),
          randn(rng, sh.C), randn(rng, sh.C, 0.1), randn(rng, sh.C, 0.1, 0.8), randn(rng, sh.C), randn(rng, sh.C),
          {}, {}};
  for (auto& v : in.rv0) v = std::fabs(v);
  std::vector<float> y(static_cast<size_t>(n)), rm = in.rm0, rv = in.rv0;
  in.mean = in.invstd = std::vector<float>(static_cast<size_t>(sh.C));
  kcpu::batchnorm_forward_train<float>({sh.N, sh.C, sh.HW}, in.x.data(), in.gamma.data(), in.beta.data(), kEps,
                                       kMomentum, y.data(), in.mean.data(), in.invstd.data(), rm.data(), rv.data());
  return in;
}

// The CPU reference on x, dy, relu_y and dx0 as T holds them (widened), each output rounded once to T.
template <typename T>
BnOut<T> bn_reference(const BnShape& sh, const BnIn& in) {
  const kcpu::BatchNormShape s{sh.N, sh.C, sh.HW};
  const size_t n = in.x.size(), C = static_cast<size_t>(sh.C);
  const std::vector<float> x = to_f32(from_f32<T>(in.x)), dy = to_f32(from_f32<T>(in.dy));
  const std::vector<float> ry = to_f32(from_f32<T>(in.relu_y)), dx0 = to_f32(from_f32<T>(in.dx0));
  BnOut<T> out;
  std::vector<float> y(n), relu_y(n), ye(n);
  out.mean = out.invstd = std::vector<float>(C);
  out.rm = in.rm0, out.rv = in.rv0;
  kcpu::batchnorm_forward_train<float>(s, x.data(), in.gamma.data(), in.beta.data(), kEps, kMomentum, y.data(),
                                       out.mean.data(), out.invstd.data(), out.rm.data(), out.rv.data());
  for (size_t i = 0; i < n; ++i) relu_y[i] = y[i] > 0.f ? y[i] : 0.f;
  out.y = from_f32<T>(y), out.y_relu = from_f32<T>(relu_y);
  kcpu::batchnorm_forward_eval<float>(s, x.data(), in.gamma.data(), in.beta.data(), kEps, in.rm0.data(),
                                      in.rv0.data(), ye.data());
  out.y_eval = from_f32<T>(ye);
  for (int v = 0; v < 4; ++v) {
    const bool relu = v / 2, acc = v % 2;
    std::vector<float> g(n), dx(n);
    for (size_t i = 0; i < n; ++i) g[i] = !relu || ry[i] > 0.f ? dy[i] : 0.f;
    out.dgamma[v] = acc ? in.dg0 : std::vector<float>(C);
    out.dbeta[v] = acc ? in.db0 : std::vector<float>(C);
    kcpu::batchnorm_backward<float>(s, x.data(), g.data(), in.gamma.data(), in.mean.data(), in.invstd.data(),
                                    dx.data(), out.dgamma[v].data(), out.dbeta[v].data(), false, acc);
    if (acc)
      for (size_t i = 0; i < n; ++i) dx[i] = dx0[i] + dx[i];  // added in fp32, rounded once below
    out.dx[v] = from_f32<T>(dx);
  }
  return out;
}

// The CUDA kernels on the same inputs in layout channels_last; results brought back to NCHW.
template <typename T>
BnOut<T> bn_gpu(const BnShape& sh, bool channels_last, const BnIn& in) {
  const kc::BatchNormShape s{sh.N, sh.C, sh.HW, channels_last};
  const size_t n = in.x.size();
  auto dev = [&](const std::vector<float>& v) {
    const std::vector<T> t = from_f32<T>(v);
    return channels_last ? relayout(t, sh.N, sh.C, sh.HW, true) : t;
  };
  auto host = [&](const DevBuf<T>& b) {
    const std::vector<T> t = b.get();
    return channels_last ? relayout(t, sh.N, sh.C, sh.HW, false) : t;
  };
  cudaStream_t st = stream();
  DevBuf<T> x(dev(in.x)), dy(dev(in.dy)), ry(dev(in.relu_y)), y(n), dx(n);
  DevBuf<float> gamma(in.gamma), beta(in.beta), mean(in.gamma.size()), invstd(in.gamma.size()), rm(in.rm0),
      rv(in.rv0), smean(in.mean), sinvstd(in.invstd), dg(in.gamma.size()), db(in.gamma.size());
  DevBuf<double> scratch(kc::batchnorm_scratch_doubles(s));
  BnOut<T> out;
  for (bool relu : {false, true}) {
    y.poison(), mean.poison(), invstd.poison();
    rm.upload(in.rm0), rv.upload(in.rv0);
    kc::batchnorm_forward_train(st, s, x.p, gamma.p, beta.p, kEps, kMomentum, y.p, mean.p, invstd.p, rm.p, rv.p,
                                scratch.p, relu);
    (relu ? out.y_relu : out.y) = host(y);
    if (!relu) out.mean = mean.get(), out.invstd = invstd.get(), out.rm = rm.get(), out.rv = rv.get();
  }
  y.poison();
  rm.upload(in.rm0), rv.upload(in.rv0);
  kc::batchnorm_forward_eval(st, s, x.p, gamma.p, beta.p, kEps, rm.p, rv.p, y.p, scratch.p);
  out.y_eval = host(y);
  for (int v = 0; v < 4; ++v) {
    const bool relu = v / 2, acc = v % 2;
    if (acc) {
      dx.upload(dev(in.dx0)), dg.upload(in.dg0), db.upload(in.db0);
    } else {
      dx.poison(), dg.poison(), db.poison();
    }
    kc::batchnorm_backward(st, s, x.p, dy.p, gamma.p, smean.p, sinvstd.p, dx.p, dg.p, db.p, acc, acc, scratch.p,
                           relu ? ry.p : nullptr);
    out.dx[v] = host(dx), out.dgamma[v] = dg.get(), out.dbeta[v] = db.get();
  }
  return out;
}

// Statistics, running estimates and parameter gradients: fp32 (sums in double, in another order).
template <typename T>
void check_bn_params(const BnOut<T>& got, const BnOut<T>& want, double limit) {
  CHECK(rel_err(got.mean, want.mean) < limit);
  CHECK(rel_err(got.invstd, want.invstd) < limit);
  CHECK(rel_err(got.rm, want.rm) < limit);
  CHECK(rel_err(got.rv, want.rv) < limit);
  for (int v = 0; v < 4; ++v) {
    INFO("backward: relu_y " << v / 2 << ", accumulate " << v % 2);
    CHECK(rel_err(got.dgamma[v], want.dgamma[v]) < limit);
    CHECK(rel_err(got.dbeta[v], want.dbeta[v]) < limit);
  }
}

// ---- element-wise ----

template <typename T>
void check_elementwise() {
  INFO("element type " << (std::is_same_v<T, float> ? "fp32" : "bf16"));
  const int64_t n = 4099;
  bts::Rng rng(43);
  std::vector<float> a = randn(rng, n), b = randn(rng, n), y = randn(rng, n), dy = randn(rng, n), d0 = randn(rng, n);
  const float inf = INFINITY, nan = NAN;
  const float specials_a[] = {nan, inf, -inf, -0.f, 1e-40f, 0.f, -1e-40f}, specials_b[] = {1.f, -inf, 1.f, -0.f, 0.f};
  std::copy(std::begin(specials_a), std::end(specials_a), a.begin());
  std::copy(std::begin(specials_b), std::end(specials_b), b.begin());
  for (int64_t i = 0; i < n; i += 7) y[i] = 0.f;
  y[6] = nan, y[8] = 1.f, dy[8] = nan, y[9] = 1e-40f;
  // The inputs as T holds them, and widened: the CPU reference's operands.
  const std::vector<T> at = from_f32<T>(a), bt = from_f32<T>(b), yt = from_f32<T>(y), dyt = from_f32<T>(dy),
                       d0t = from_f32<T>(d0);
  const std::vector<float> aw = to_f32(at), bw = to_f32(bt), yw = to_f32(yt), dyw = to_f32(dyt), d0w = to_f32(d0t);
  cudaStream_t st = stream();
  DevBuf<T> A(at), B(bt), Y(yt), DY(dyt), out(n), out2(n);
  std::vector<float> r(n), r2(n);
  out.poison();
  kc::relu_forward(st, n, A.p, out.p);
  kcpu::relu_forward<float>(n, aw.data(), r.data());
  CHECK(bits_differ(out.get(), from_f32<T>(r), "relu_forward") == 0);
  out.poison();
  kc::add_forward(st, n, A.p, B.p, out.p);
  kcpu::add_forward<float>(n, aw.data(), bw.data(), r.data());
  CHECK(bits_differ(out.get(), from_f32<T>(r), "add_forward") == 0);
  out.poison();
  kc::add_relu_forward(st, n, A.p, B.p, out.p);
  kcpu::add_relu_forward<float>(n, aw.data(), bw.data(), r.data());
  CHECK(bits_differ(out.get(), from_f32<T>(r), "add_relu_forward") == 0);
  for (bool acc : {false, true}) {
    INFO("accumulate " << acc);
    auto start = [&](DevBuf<T>& d, std::vector<float>& ref) {
      if (acc) d.upload(d0t);
      else d.poison();
      ref = acc ? d0w : std::vector<float>(n);
    };
    start(out, r);
    kc::relu_backward(st, n, Y.p, DY.p, out.p, acc);
    kcpu::relu_backward<float>(n, yw.data(), dyw.data(), r.data(), acc);
    CHECK(bits_differ(out.get(), from_f32<T>(r), "relu_backward") == 0);
    start(out, r);
    kc::copy_grad(st, n, DY.p, out.p, acc);
    kcpu::copy_grad<float>(n, dyw.data(), r.data(), acc);
    CHECK(bits_differ(out.get(), from_f32<T>(r), "copy_grad") == 0);
    // add_relu_backward: da accumulating or not (acc), db the other way; then without da.
    start(out, r);
    if (!acc) out2.upload(d0t), r2 = d0w;
    else out2.poison(), r2.assign(n, 0.f);
    kc::add_relu_backward(st, n, Y.p, DY.p, out.p, acc, out2.p, !acc);
    kcpu::add_relu_backward<float>(n, yw.data(), dyw.data(), r.data(), acc, r2.data(), !acc);
    CHECK(bits_differ(out.get(), from_f32<T>(r), "add_relu_backward da") == 0);
    CHECK(bits_differ(out2.get(), from_f32<T>(r2), "add_relu_backward db") == 0);
    start(out, r);
    kc::add_relu_backward(st, n, Y.p, DY.p, nullptr, false, out.p, acc);
    kcpu::add_relu_backward<float>(n, yw.data(), dyw.data(), nullptr, false, r.data(), acc);
    CHECK(bits_differ(out.get(), from_f32<T>(r), "add_relu_backward, db only") == 0);
  }
}

// ---- global average pooling ----

template <typename T>
void check_pool(const BnShape& sh, bool channels_last) {
  const bool bf16 = !std::is_same_v<T, float>;
  INFO("pool " << sh.N << "x" << sh.C << "x" << sh.HW << (channels_last ? " NHWC" : " NCHW") << (bf16 ? " bf16" : " fp32"));
  const int64_t N = sh.N, C = sh.C, HW = sh.HW, n = N * C * HW;
  bts::Rng rng(44, static_cast<uint64_t>(C * 1000 + HW));
  const std::vector<T> x = from_f32<T>(randn(rng, n, 1.0, 0.3)), dy = from_f32<T>(randn(rng, N * C)),
                       dx0 = from_f32<T>(randn(rng, n));
  auto dev = [&](const std::vector<T>& v) { return channels_last ? relayout(v, N, C, HW, true) : v; };
  auto host = [&](const DevBuf<T>& d) {
    const std::vector<T> v = d.get();
    return channels_last ? relayout(v, N, C, HW, false) : v;
  };
  cudaStream_t st = stream();
  DevBuf<T> X(dev(x)), Y(static_cast<size_t>(N * C)), DY(dy), DX(n);
  Y.poison();
  kc::global_avg_pool_forward(st, N, C, HW, X.p, Y.p, channels_last);
  std::vector<float> r(static_cast<size_t>(N * C));
  kcpu::global_avg_pool_forward<float>(N, C, HW, to_f32(x).data(), r.data());
  if constexpr (std::is_same_v<T, float>)
    CHECK(rel_err(Y.get(), r) < 1e-5);  // float sums in the GPU's order, the CPU's in double
  else
    CHECK(bf16_off_by_more_than_an_ulp(Y.get(), from_f32<T>(r), "pool forward") == 0);
  for (bool acc : {false, true}) {
    INFO("accumulate " << acc);
    if (acc) DX.upload(dev(dx0));
    else DX.poison();
    kc::global_avg_pool_backward(st, N, C, HW, DY.p, DX.p, acc, channels_last);
    std::vector<float> rd = acc ? to_f32(dx0) : std::vector<float>(static_cast<size_t>(n));
    kcpu::global_avg_pool_backward<float>(N, C, HW, to_f32(dy).data(), rd.data(), acc);
    CHECK(bits_differ(host(DX), from_f32<T>(rd), "pool backward") == 0);
  }
}

}  // namespace

TEST_SUITE("layout_kernels_gpu") {

TEST_CASE("BatchNorm channels last, fp32: the GPU's NCHW results, transposed (forward with and without ReLU, eval, "
          "backward with and without relu_y, accumulating or not)") {
  for (const BnShape& sh : kBnShapes) {
    INFO("shape N " << sh.N << " C " << sh.C << " HW " << sh.HW);
    const BnIn in = bn_inputs(sh);
    const BnOut<float> nchw = bn_gpu<float>(sh, false, in), nhwc = bn_gpu<float>(sh, true, in);
    const BnOut<float> cpu = bn_reference<float>(sh, in);
    // NCHW against the CPU too: a templated kernel must still compute what the fp32 kernel did.
    CHECK(rel_err(nchw.y, cpu.y) < 1e-5);
    CHECK(rel_err(nchw.dx[3], cpu.dx[3]) < 1e-5);
    check_bn_params(nchw, cpu, 1e-5);
    check_bn_params(nhwc, nchw, 1e-6);
    CHECK(rel_err(nhwc.y, nchw.y) < 1e-6);
    CHECK(rel_err(nhwc.y_relu, nchw.y_relu) < 1e-6);
    CHECK(bits_differ(nhwc.y_eval, nchw.y_eval, "eval y") == 0);  // element by element: the same operations
    for (int v = 0; v < 4; ++v) {
      INFO("backward: relu_y " << v / 2 << ", accumulate " << v % 2);
      CHECK(rel_err(nhwc.dx[v], nchw.dx[v]) < 1e-6);
    }
  }
}

TEST_CASE("BatchNorm bf16, NCHW and channels last: the CPU reference on the widened inputs, rounded once") {
  for (const BnShape& sh : kBnShapes)
    for (bool channels_last : {false, true}) {
      INFO("shape N " << sh.N << " C " << sh.C << " HW " << sh.HW << (channels_last ? " NHWC" : " NCHW"));
      const BnIn in = bn_inputs(sh);
      const BnOut<uint16_t> gpu = bn_gpu<uint16_t>(sh, channels_last, in), cpu = bn_reference<uint16_t>(sh, in);
      check_bn_params(gpu, cpu, 1e-6);
      CHECK(bf16_off_by_more_than_an_ulp(gpu.y, cpu.y, "y") == 0);
      CHECK(bf16_off_by_more_than_an_ulp(gpu.y_relu, cpu.y_relu, "relu y") == 0);
      CHECK(bf16_off_by_more_than_an_ulp(gpu.y_eval, cpu.y_eval, "eval y") == 0);
      for (int v = 0; v < 4; ++v) {
        INFO("backward: relu_y " << v / 2 << ", accumulate " << v % 2);
        CHECK(bf16_off_by_more_than_an_ulp(gpu.dx[v], cpu.dx[v], "dx") == 0);
      }
    }
}

TEST_CASE("element-wise ops, fp32 and bf16: the CPU reference on the widened inputs, rounded once, bit for bit") {
  check_elementwise<float>();
  check_elementwise<uint16_t>();
}

TEST_CASE("global average pool, fp32 and bf16, NCHW and channels last, vs the CPU reference") {
  for (const BnShape& sh : {BnShape{2, 3, 35}, BnShape{4, 64, 64}, BnShape{3, 130, 10}, BnShape{16, 17, 1},
                            BnShape{2, 512, 16}})
    for (bool channels_last : {false, true}) {
      check_pool<float>(sh, channels_last);
      check_pool<uint16_t>(sh, channels_last);
    }
}

}  // TEST_SUITE
