// The fast f32 BatchNorm on layouts whose innermost dimension is channels (batchnorm.h): NHWC (rows of C channels)
// and nChw16c (rows of 16 channels, one channel block of one image after another). Every loop runs along a row's
// channels, so it vectorises across channels; statistics are double sums per channel in a fixed order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

namespace {

constexpr int64_t kRowChunks = 8;

// One pass for both statistics: sums of d = x - shift and of d * d, shift a value of the channel itself (its first),
// so that the variance S2/M - (S1/M)^2 is taken from values centred near the data: in double, exact to far below
// float resolution unless the spread is ~1e-8 of the distance from the shift (BatchNorm's inputs are conv outputs).
BTS_VECTOR_CLONES void shifted_moment_rows(const float* x, int64_t rows, int64_t C, const double* shift, double* acc1,
                                           double* acc2) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const double d = static_cast<double>(x[r * C + c]) - shift[c];
      acc1[c] += d;
      acc2[c] += d * d;
    }
}

// g = dy, or with a ReLU after the BatchNorm (relu_y: its output) g = relu_y > 0 ? dy : 0, the gradient reaching the
// BatchNorm output, exactly as relu_backward computes it. The select is a bit mask (dy's bits, or +0's), which the
// vectoriser takes where it refuses a conditional inside the summing loops.
template <bool Relu>
BTS_INLINE_BODY float incoming(const float* relu_y, const float* dy, int64_t i) {
  if constexpr (Relu) {
    uint32_t bits;
    std::memcpy(&bits, dy + i, sizeof bits);
    bits &= relu_y[i] > 0.f ? 0xffffffffu : 0u;
    float g;
    std::memcpy(&g, &bits, sizeof g);
    return g;
  } else {
    (void)relu_y;
    return dy[i];
  }
}

template <bool Relu>
BTS_INLINE_BODY void gradient_sums(const float* x, const float* relu_y, const float* dy, int64_t rows, int64_t C,
                                   const double* mean, double* acc_dy, double* acc_dyx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const double g = incoming<Relu>(relu_y, dy, r * C + c);
      acc_dy[c] += g;
      acc_dyx[c] += g * (static_cast<double>(x[r * C + c]) - mean[c]);
    }
}
BTS_VECTOR_CLONES void gradient_sum_rows(const float* x, const float* dy, int64_t rows, int64_t C, const double* mean,
                                         double* acc_dy, double* acc_dyx) {
  gradient_sums<false>(x, nullptr, dy, rows, C, mean, acc_dy, acc_dyx);
}
BTS_VECTOR_CLONES void gradient_sum_relu_rows(const float* x, const float* relu_y, const float* dy, int64_t rows,
                                              int64_t C, const double* mean, double* acc_dy, double* acc_dyx) {
  gradient_sums<true>(x, relu_y, dy, rows, C, mean, acc_dy, acc_dyx);
}

// y = (x - mean) * scale + shift per channel, then max(0, y) with a ReLU (as relu_forward computes it)
template <bool Relu>
BTS_INLINE_BODY void normalise(const float* x, int64_t rows, int64_t C, const float* mean, const float* scale,
                               const float* shift, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const float v = (x[r * C + c] - mean[c]) * scale[c] + shift[c];
      y[r * C + c] = Relu ? (v > 0.f ? v : 0.f) : v;
    }
}
BTS_VECTOR_CLONES void normalise_rows(const float* x, int64_t rows, int64_t C, const float* mean, const float* scale,
                                      const float* shift, float* y) {
  normalise<false>(x, rows, C, mean, scale, shift, y);
}
BTS_VECTOR_CLONES void normalise_relu_rows(const float* x, int64_t rows, int64_t C, const float* mean,
                                           const float* scale, const float* shift, float* y) {
  normalise<true>(x, rows, C, mean, scale, shift, y);
}

// dx (=, or +=) a * ((g - mean_g) - (x - mean) * d), per channel (batchnorm_fast.cpp derives it), g as above
template <bool Relu>
BTS_INLINE_BODY void input_gradient(const float* x, const float* relu_y, const float* dy, int64_t rows, int64_t C,
                                    const float* mean, const float* mean_dy, const float* a, const float* d,
                                    float* dx, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float* o = dx + r * C;
    if (accumulate)
      for (int64_t c = 0; c < C; ++c)
        o[c] += a[c] * ((incoming<Relu>(relu_y, dy, r * C + c) - mean_dy[c]) - (xr[c] - mean[c]) * d[c]);
    else
      for (int64_t c = 0; c < C; ++c)
        o[c] = a[c] * ((incoming<Relu>(relu_y, dy, r * C + c) - mean_dy[c]) - (xr[c] - mean[c]) * d[c]);
  }
}
BTS_VECTOR_CLONES void input_gradient_rows(const float* x, const float* dy, int64_t rows, int64_t C, const float* mean,
                                           const float* mean_dy, const float* a, const float* d, float* dx,
                                           bool accumulate) {
  input_gradient<false>(x, nullptr, dy, rows, C, mean, mean_dy, a, d, dx, accumulate);
}
BTS_VECTOR_CLONES void input_gradient_relu_rows(const float* x, const float* relu_y, const float* dy, int64_t rows,
                                                int64_t C, const float* mean, const float* mean_dy, const float* a,
                                                const float* d, float* dx, bool accumulate) {
  input_gradient<true>(x, relu_y, dy, rows, C, mean, mean_dy, a, d, dx, accumulate);
}

// The row kernels with an optional ReLU (relu_y null: none).
void gradient_sums_any(const float* x, const float* relu_y, const float* dy, int64_t rows, int64_t C,
                       const double* mean, double* acc_dy, double* acc_dyx) {
  if (relu_y)
    gradient_sum_relu_rows(x, relu_y, dy, rows, C, mean, acc_dy, acc_dyx);
  else
    gradient_sum_rows(x, dy, rows, C, mean, acc_dy, acc_dyx);
}
void normalise_any(bool relu, const float* x, int64_t rows, int64_t C, const float* mean, const float* scale,
                   const float* shift, float* y) {
  (relu ? normalise_relu_rows : normalise_rows)(x, rows, C, mean, scale, shift, y);
}
void input_gradient_any(const float* x, const float* relu_y, const float* dy, int64_t rows, int64_t C,
                        const float* mean, const float* mean_dy, const float* a, const float* d, float* dx,
                        bool accumulate) {
  if (relu_y)
    input_gradient_relu_rows(x, relu_y, dy, rows, C, mean, mean_dy, a, d, dx, accumulate);
  else
    input_gradient_rows(x, dy, rows, C, mean, mean_dy, a, d, dx, accumulate);
}

// Mean and sum of squared deviations from the shifted sums s1 = sum (x - shift), s2 = sum (x - shift)^2 of m values.
void moments_to_statistics(double s1, double s2, double shift, int64_t m, double* mean, double* ssd) {
  const double d = s1 / static_cast<double>(m);
  *mean = shift + d;
  *ssd = std::max(0.0, s2 - s1 * d);
}

// From each channel's mean and sum of squared deviations over M values: the float mean and scale the normalisation
// uses, the saved statistics, and the running estimates (PyTorch's update, unbiased variance).
void finish_statistics(int64_t C, int64_t M, const double* mean, const double* ssd, const float* gamma, float eps,
                       float momentum, float* fm, float* scale, float* save_mean, float* save_invstd,
                       float* running_mean, float* running_var) {
  for (int64_t c = 0; c < C; ++c) {
    const double var = ssd[c] / static_cast<double>(M);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    fm[c] = static_cast<float>(mean[c]);
    scale[c] = static_cast<float>(gamma[c] * invstd);
    save_mean[c] = fm[c];
    save_invstd[c] = static_cast<float>(invstd);
    const double unbiased = M > 1 ? ssd[c] / static_cast<double>(M - 1) : var, m = momentum;
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean[c]);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * unbiased);
  }
}

// From the sums ([0, C) sum g, [C, 2C) sum g * (x - mean)): the per-channel coefficients of dx
// (input_gradient_rows) and the parameter gradients (=, or += with accumulate_params).
void gradient_coefficients(int64_t C, int64_t M, const double* sums, const float* gamma, const float* save_invstd,
                           float* a, float* mean_dy, float* d, float* dgamma, float* dbeta, bool accumulate_params) {
  for (int64_t c = 0; c < C; ++c) {
    const double invstd = save_invstd[c], g_dy = sums[c], g_dy_xhat = sums[C + c] * invstd;
    a[c] = static_cast<float>(gamma[c] * invstd);
    mean_dy[c] = static_cast<float>(g_dy / static_cast<double>(M));
    d[c] = static_cast<float>(invstd * g_dy_xhat / static_cast<double>(M));
    dgamma[c] = static_cast<float>(accumulate_params ? dgamma[c] + g_dy_xhat : g_dy_xhat);
    dbeta[c] = static_cast<float>(accumulate_params ? dbeta[c] + g_dy : g_dy);
  }
}

// Rows [begin, end) of chunk k of `chunks`.
struct RowChunks {
  int64_t rows, chunks;
  explicit RowChunks(int64_t r) : rows(r), chunks(std::max<int64_t>(1, std::min(kRowChunks, r))) {}
  int64_t begin(int64_t k) const { return k * rows / chunks; }
  int64_t size(int64_t k) const { return begin(k + 1) - begin(k); }
};

bool parallel(const BatchNormShape& s) { return s.N * s.C * s.HW >= (1 << 15); }

// Per-channel sums: sum_chunk(k, acc) adds chunk k's rows into acc[0..width); the chunks' sums are then added in
// chunk order into out (width doubles).
template <typename F>
void chunked_sums(const RowChunks& rc, int64_t width, bool par, std::vector<double>& partial, double* out, F sum_chunk) {
  partial.assign(static_cast<size_t>(rc.chunks * width), 0.0);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t k = 0; k < rc.chunks; ++k) sum_chunk(k, partial.data() + k * width);
  std::fill(out, out + width, 0.0);
  for (int64_t k = 0; k < rc.chunks; ++k)
    for (int64_t c = 0; c < width; ++c) out[c] += partial[static_cast<size_t>(k * width + c)];
}

// Per-call workspaces, grow-only, of the calling thread.
struct Workspace {
  std::vector<double> partial, d1, d2, d3, d4;
  std::vector<float> f1, f2, f3, f4;
};
Workspace& workspace(int64_t C) {
  thread_local Workspace w;
  for (auto* v : {&w.d1, &w.d2, &w.d4}) v->resize(static_cast<size_t>(C));
  for (auto* v : {&w.f1, &w.f2, &w.f3, &w.f4}) v->resize(static_cast<size_t>(C));
  return w;
}

}  // namespace

void batchnorm_forward_train_nhwc(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                  float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                  float* running_mean, float* running_var, bool relu) {
  const int64_t C = s.C, M = s.N * s.HW;
  const RowChunks rc(M);
  const bool par = parallel(s);
  Workspace& w = workspace(C);
  double* mean = w.d1.data();
  double* ssd = w.d2.data();
  std::vector<double>& moments = w.d3;  // [0, C) sum of d, [C, 2C) sum of d^2, d = x - shift
  moments.resize(static_cast<size_t>(2 * C));
  double* shift = w.d4.data();
  for (int64_t c = 0; c < C; ++c) shift[c] = x[c];
  chunked_sums(rc, 2 * C, par, w.partial, moments.data(), [&](int64_t k, double* acc) {
    shifted_moment_rows(x + rc.begin(k) * C, rc.size(k), C, shift, acc, acc + C);
  });
  for (int64_t c = 0; c < C; ++c) moments_to_statistics(moments[c], moments[C + c], shift[c], M, &mean[c], &ssd[c]);
  float *fm = w.f1.data(), *scale = w.f2.data();
  finish_statistics(C, M, mean, ssd, gamma, eps, momentum, fm, scale, save_mean, save_invstd, running_mean,
                    running_var);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t k = 0; k < rc.chunks; ++k)
    normalise_any(relu, x + rc.begin(k) * C, rc.size(k), C, fm, scale, beta, y + rc.begin(k) * C);
}

void batchnorm_forward_eval_nhwc(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                 float eps, const float* running_mean, const float* running_var, float* y) {
  const int64_t C = s.C;
  const RowChunks rc(s.N * s.HW);
  Workspace& w = workspace(C);
  float* scale = w.f2.data();
  for (int64_t c = 0; c < C; ++c)
    scale[c] = static_cast<float>(gamma[c] * (1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps)));
#pragma omp parallel for schedule(static) if (parallel(s))
  for (int64_t k = 0; k < rc.chunks; ++k)
    normalise_rows(x + rc.begin(k) * C, rc.size(k), C, running_mean, scale, beta, y + rc.begin(k) * C);
}

void batchnorm_backward_nhwc(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                             bool accumulate_dx, bool accumulate_params, const float* relu_y) {
  const int64_t C = s.C, M = s.N * s.HW;
  const RowChunks rc(M);
  const bool par = parallel(s);
  Workspace& w = workspace(C);
  double* mean = w.d1.data();
  for (int64_t c = 0; c < C; ++c) mean[c] = save_mean[c];
  // Both sums in one pass: [0, C) is sum dy, [C, 2C) is sum dy * (x - mean).
  std::vector<double>& sums = w.d2;
  sums.resize(static_cast<size_t>(2 * C));
  chunked_sums(rc, 2 * C, par, w.partial, sums.data(), [&](int64_t k, double* acc) {
    gradient_sums_any(x + rc.begin(k) * C, relu_y ? relu_y + rc.begin(k) * C : nullptr, dy + rc.begin(k) * C,
                      rc.size(k), C, mean, acc, acc + C);
  });
  float *a = w.f1.data(), *mean_dy = w.f2.data(), *d = w.f3.data();
  gradient_coefficients(C, M, sums.data(), gamma, save_invstd, a, mean_dy, d, dgamma, dbeta, accumulate_params);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t k = 0; k < rc.chunks; ++k)
    input_gradient_any(x + rc.begin(k) * C, relu_y ? relu_y + rc.begin(k) * C : nullptr, dy + rc.begin(k) * C,
                       rc.size(k), C, save_mean, mean_dy, a, d, dx + rc.begin(k) * C, accumulate_dx);
}

// nChw16c: channel block b of image n is HW rows of 16 channels, at offset ((n * CB + b) * HW) * 16.
// Statistics: the images are cut into a fixed number of consecutive chunks (as the rows are for NHWC); each
// (block, chunk) sums its images in order and each image's rows in order, and the chunks are added in chunk order,
// so the thread count (the threads share out the (block, chunk) pairs) changes nothing.
namespace {
constexpr int64_t kBlock = 16;
int64_t block_offset(const BatchNormShape& s, int64_t n, int64_t b) { return ((n * (s.C / kBlock) + b) * s.HW) * kBlock; }

// The chunked sums of `lanes` doubles per channel block: sum(b, n, acc) adds image n's rows of block b into
// acc[0..lanes); out[b * lanes + l] gets them, chunks added in chunk order.
template <typename F>
void blocked_sums(const BatchNormShape& s, int64_t lanes, bool par, std::vector<double>& partial, double* out, F sum) {
  const int64_t CB = s.C / kBlock;
  const RowChunks images(s.N);
  partial.assign(static_cast<size_t>(CB * images.chunks * lanes), 0.0);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t bk = 0; bk < CB * images.chunks; ++bk) {
    const int64_t b = bk / images.chunks, k = bk % images.chunks;
    double* acc = partial.data() + bk * lanes;
    for (int64_t n = images.begin(k); n < images.begin(k + 1); ++n) sum(b, n, acc);
  }
  std::fill(out, out + CB * lanes, 0.0);
  for (int64_t b = 0; b < CB; ++b)
    for (int64_t k = 0; k < images.chunks; ++k)
      for (int64_t l = 0; l < lanes; ++l)
        out[b * lanes + l] += partial[static_cast<size_t>((b * images.chunks + k) * lanes + l)];
}
}  // namespace

void batchnorm_forward_train_blocked16(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                       float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                       float* running_mean, float* running_var, bool relu) {
  const int64_t C = s.C, CB = C / kBlock, M = s.N * s.HW;
  const bool par = parallel(s);
  Workspace& w = workspace(C);
  double* mean = w.d1.data();
  double* ssd = w.d2.data();
  float *fm = w.f1.data(), *scale = w.f2.data();
  // Both shifted sums per block: 32 lanes, [0, 16) sum of d and [16, 32) sum of d^2 (shift: image 0's first row).
  std::vector<double>& both = w.d3;
  both.resize(static_cast<size_t>(2 * C));
  double* shift = w.d4.data();
  for (int64_t b = 0; b < CB; ++b)
    for (int64_t l = 0; l < kBlock; ++l) shift[b * kBlock + l] = x[block_offset(s, 0, b) + l];
  blocked_sums(s, 2 * kBlock, par, w.partial, both.data(), [&](int64_t b, int64_t n, double* acc) {
    shifted_moment_rows(x + block_offset(s, n, b), s.HW, kBlock, shift + b * kBlock, acc, acc + kBlock);
  });
  for (int64_t b = 0; b < CB; ++b)
    for (int64_t l = 0; l < kBlock; ++l) {
      const int64_t c = b * kBlock + l;
      moments_to_statistics(both[b * 2 * kBlock + l], both[b * 2 * kBlock + kBlock + l], shift[c], M, &mean[c],
                            &ssd[c]);
    }
  finish_statistics(C, M, mean, ssd, gamma, eps, momentum, fm, scale, save_mean, save_invstd, running_mean,
                    running_var);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t nb = 0; nb < s.N * CB; ++nb) {
    const int64_t b = nb % CB, off = block_offset(s, nb / CB, b);
    normalise_any(relu, x + off, s.HW, kBlock, fm + b * kBlock, scale + b * kBlock, beta + b * kBlock, y + off);
  }
}

void batchnorm_forward_eval_blocked16(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                      float eps, const float* running_mean, const float* running_var, float* y) {
  const int64_t C = s.C, CB = C / kBlock;
  Workspace& w = workspace(C);
  float* scale = w.f2.data();
  for (int64_t c = 0; c < C; ++c)
    scale[c] = static_cast<float>(gamma[c] * (1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps)));
#pragma omp parallel for schedule(static) if (parallel(s))
  for (int64_t nb = 0; nb < s.N * CB; ++nb) {
    const int64_t b = nb % CB, off = block_offset(s, nb / CB, b);
    normalise_rows(x + off, s.HW, kBlock, running_mean + b * kBlock, scale + b * kBlock, beta + b * kBlock, y + off);
  }
}

void batchnorm_backward_blocked16(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                                  const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                                  float* dbeta, bool accumulate_dx, bool accumulate_params, const float* relu_y) {
  const int64_t C = s.C, CB = C / kBlock, M = s.N * s.HW;
  const bool par = parallel(s);
  Workspace& w = workspace(C);
  double* mean = w.d1.data();
  std::vector<double>& sums = w.d2;  // [0, C) sum dy, [C, 2C) sum dy * (x - mean)
  sums.resize(static_cast<size_t>(2 * C));
  for (int64_t c = 0; c < C; ++c) mean[c] = save_mean[c];
  // Both sums per block: 32 lanes, [0, 16) sum dy and [16, 32) sum dy * (x - mean), regrouped into sums below.
  std::vector<double>& both = w.d3;
  both.resize(static_cast<size_t>(2 * C));
  blocked_sums(s, 2 * kBlock, par, w.partial, both.data(), [&](int64_t b, int64_t n, double* acc) {
    const int64_t off = block_offset(s, n, b);
    gradient_sums_any(x + off, relu_y ? relu_y + off : nullptr, dy + off, s.HW, kBlock, mean + b * kBlock, acc,
                      acc + kBlock);
  });
  for (int64_t b = 0; b < CB; ++b)
    for (int64_t l = 0; l < kBlock; ++l) {
      sums[b * kBlock + l] = both[b * 2 * kBlock + l];
      sums[C + b * kBlock + l] = both[b * 2 * kBlock + kBlock + l];
    }
  float *a = w.f1.data(), *mean_dy = w.f2.data(), *d = w.f3.data();
  gradient_coefficients(C, M, sums.data(), gamma, save_invstd, a, mean_dy, d, dgamma, dbeta, accumulate_params);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t nb = 0; nb < s.N * CB; ++nb) {
    const int64_t b = nb % CB, off = block_offset(s, nb / CB, b);
    input_gradient_any(x + off, relu_y ? relu_y + off : nullptr, dy + off, s.HW, kBlock, save_mean + b * kBlock,
                       mean_dy + b * kBlock, a + b * kBlock, d + b * kBlock, dx + off, accumulate_dx);
  }
}

}  // namespace bts::kernels::cpu
