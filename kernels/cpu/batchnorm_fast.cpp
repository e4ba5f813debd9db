// The fast f32 BatchNorm (batchnorm.h). Per channel: two passes for the statistics (sum, then squared deviations
// from the mean, as the reference does), one for the output; backward: one pass for the two sums, one for dx.
#include <cmath>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/vector_isa.h"

namespace bts::kernels::cpu {

namespace {

constexpr int kLanes = 16;

// Lanes of double sums over one run of n values: value i goes to lane i mod 16, in increasing i.
struct Lanes {
  double v[kLanes] = {};
  double total() const {
    double t = 0;
    for (int j = 0; j < kLanes; ++j) t += v[j];
    return t;
  }
};

BTS_VECTOR_CLONES void add_values(const float* x, int64_t n, double* lanes) {
  double acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = lanes[j];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += static_cast<double>(x[i + j]);
  for (int j = 0; i < n; ++i, ++j) acc[j] += static_cast<double>(x[i]);
  for (int j = 0; j < kLanes; ++j) lanes[j] = acc[j];
}

BTS_VECTOR_CLONES void add_squared_deviations(const float* x, int64_t n, double mean, double* lanes) {
  double acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = lanes[j];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double d = static_cast<double>(x[i + j]) - mean;
      acc[j] += d * d;
    }
  for (int j = 0; i < n; ++i, ++j) {
    const double d = static_cast<double>(x[i]) - mean;
    acc[j] += d * d;
  }
  for (int j = 0; j < kLanes; ++j) lanes[j] = acc[j];
}

// sum dy and sum dy * (x - mean).
BTS_VECTOR_CLONES void add_gradient_sums(const float* x, const float* dy, int64_t n, double mean, double* lanes_dy,
                                         double* lanes_dyx) {
  double a[kLanes], b[kLanes];
  for (int j = 0; j < kLanes; ++j) a[j] = lanes_dy[j], b[j] = lanes_dyx[j];
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double g = dy[i + j];
      a[j] += g;
      b[j] += g * (static_cast<double>(x[i + j]) - mean);
    }
  for (int j = 0; i < n; ++i, ++j) {
    const double g = dy[i];
    a[j] += g;
    b[j] += g * (static_cast<double>(x[i]) - mean);
  }
  for (int j = 0; j < kLanes; ++j) lanes_dy[j] = a[j], lanes_dyx[j] = b[j];
}

// y = (x - mean) * scale + shift
BTS_VECTOR_CLONES void normalise(const float* x, int64_t n, float mean, float scale, float shift, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * scale + shift;
}

// dx (=, or +=) a * ((dy - mean_dy) - (x - mean) * d). Centring dy first keeps dx accurate relative to itself
// where dy is nearly constant over the channel (dx near 0): a*dy + b*(x - mean) + c would cancel there.
BTS_VECTOR_CLONES void input_gradient(const float* x, const float* dy, int64_t n, float mean, float mean_dy, float a,
                                      float d, float* dx, bool accumulate) {
  if (accumulate)
    for (int64_t i = 0; i < n; ++i) dx[i] += a * ((dy[i] - mean_dy) - (x[i] - mean) * d);
  else
    for (int64_t i = 0; i < n; ++i) dx[i] = a * ((dy[i] - mean_dy) - (x[i] - mean) * d);
}

bool parallel(const BatchNormShape& s) { return s.N * s.C * s.HW >= (1 << 15) && s.C > 1; }

}  // namespace

void batchnorm_forward_train_fast(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                  float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                  float* running_mean, float* running_var) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for schedule(static) if (parallel(s))
  for (int64_t c = 0; c < s.C; ++c) {
    Lanes sum, sq;
    for (int64_t n = 0; n < s.N; ++n) add_values(x + (n * s.C + c) * s.HW, s.HW, sum.v);
    const double mean = sum.total() / static_cast<double>(M);
    for (int64_t n = 0; n < s.N; ++n) add_squared_deviations(x + (n * s.C + c) * s.HW, s.HW, mean, sq.v);
    const double ssd = sq.total(), var = ssd / static_cast<double>(M);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    const float scale = static_cast<float>(gamma[c] * invstd);
    for (int64_t n = 0; n < s.N; ++n)
      normalise(x + (n * s.C + c) * s.HW, s.HW, static_cast<float>(mean), scale, beta[c], y + (n * s.C + c) * s.HW);
    save_mean[c] = static_cast<float>(mean);
    save_invstd[c] = static_cast<float>(invstd);
    const double unbiased = M > 1 ? ssd / static_cast<double>(M - 1) : var, m = momentum;
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * unbiased);
  }
}

void batchnorm_forward_eval_fast(const BatchNormShape& s, const float* x, const float* gamma, const float* beta,
                                 float eps, const float* running_mean, const float* running_var, float* y) {
#pragma omp parallel for schedule(static) if (parallel(s))
  for (int64_t c = 0; c < s.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const float scale = static_cast<float>(gamma[c] * invstd);
    for (int64_t n = 0; n < s.N; ++n)
      normalise(x + (n * s.C + c) * s.HW, s.HW, running_mean[c], scale, beta[c], y + (n * s.C + c) * s.HW);
  }
}

// With xhat = (x - mean) * invstd and M = N*HW:
//   dx = gamma * invstd / M * (M * dy - sum dy - xhat * sum dy*xhat)
//      = a * ((dy - mean_dy) - (x - mean) * d),  a = gamma * invstd, mean_dy = sum dy / M, d = invstd * sum dy*xhat / M.
void batchnorm_backward_fast(const BatchNormShape& s, const float* x, const float* dy, const float* gamma,
                             const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                             bool accumulate_dx, bool accumulate_params) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for schedule(static) if (parallel(s))
  for (int64_t c = 0; c < s.C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    Lanes sum_dy, sum_dyx;
    for (int64_t n = 0; n < s.N; ++n)
      add_gradient_sums(x + (n * s.C + c) * s.HW, dy + (n * s.C + c) * s.HW, s.HW, mean, sum_dy.v, sum_dyx.v);
    const double g_dy = sum_dy.total(), g_dy_xhat = sum_dyx.total() * invstd;
    const float a = static_cast<float>(gamma[c] * invstd), mean_dy = static_cast<float>(g_dy / static_cast<double>(M)),
                d = static_cast<float>(invstd * g_dy_xhat / static_cast<double>(M));
    for (int64_t n = 0; n < s.N; ++n)
      input_gradient(x + (n * s.C + c) * s.HW, dy + (n * s.C + c) * s.HW, s.HW, save_mean[c], mean_dy, a, d,
                     dx + (n * s.C + c) * s.HW, accumulate_dx);
    dgamma[c] = static_cast<float>(accumulate_params ? dgamma[c] + g_dy_xhat : g_dy_xhat);
    dbeta[c] = static_cast<float>(accumulate_params ? dbeta[c] + g_dy : g_dy);
  }
}

}  // namespace bts::kernels::cpu
