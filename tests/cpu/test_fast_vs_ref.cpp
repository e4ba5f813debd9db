// The fast CPU path (im2col + OpenBLAS gemm) against the reference loops, forward and backward, in float and
// double, on shapes that include odd sizes, strides, 1x1 kernels and accumulation into existing gradients.
#include <cstdio>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/linear.h"
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
}  // namespace

TEST_SUITE("fast_vs_ref") {

TEST_CASE("conv2d gemm path equals the reference") {
  const ConvShape shapes[] = {
      {2, 3, 8, 8, 4, 3, 3, 1, 1},   {3, 5, 7, 9, 6, 3, 3, 2, 1},  {2, 4, 6, 6, 8, 1, 1, 1, 0},
      {2, 4, 7, 7, 8, 1, 1, 2, 0},   {1, 1, 28, 28, 8, 3, 3, 1, 1}, {4, 16, 5, 5, 32, 3, 3, 2, 1},
      {1, 3, 5, 4, 2, 3, 3, 1, 0},   {2, 2, 3, 3, 2, 3, 3, 1, 2}};
  for (const auto& s : shapes) {
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
