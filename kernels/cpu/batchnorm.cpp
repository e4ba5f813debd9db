#include "kernels/cpu/batchnorm.h"

#include <cmath>

// Channels are independent, so the channel loops run in parallel; each channel's sums stay sequential, which
// keeps results deterministic.

namespace bts::kernels::cpu {

template <typename T>
void batchnorm_forward_train(const BatchNormShape& s, const T* x, const T* gamma, const T* beta, T eps, T momentum,
                             T* y, T* save_mean, T* save_invstd, T* running_mean, T* running_var) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for schedule(static) if (s.N * s.C * s.HW >= (1 << 15))
  for (int64_t c = 0; c < s.C; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) sum += xc[i];
    }
    const double mean = sum / static_cast<double>(M);
    double sq = 0;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) sq += (xc[i] - mean) * (xc[i] - mean);
    }
    const double var = sq / static_cast<double>(M);
    const double invstd = 1.0 / std::sqrt(var + static_cast<double>(eps));
    const double g = gamma[c], b = beta[c];
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      T* yc = y + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) yc[i] = static_cast<T>((xc[i] - mean) * invstd * g + b);
    }
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    const double unbiased = M > 1 ? sq / static_cast<double>(M - 1) : var;
    running_mean[c] = static_cast<T>((1 - static_cast<double>(momentum)) * running_mean[c] + momentum * mean);
    running_var[c] = static_cast<T>((1 - static_cast<double>(momentum)) * running_var[c] + momentum * unbiased);
  }
}

template <typename T>
void batchnorm_forward_eval(const BatchNormShape& s, const T* x, const T* gamma, const T* beta, T eps,
                            const T* running_mean, const T* running_var, T* y) {
#pragma omp parallel for schedule(static) if (s.N * s.C * s.HW >= (1 << 15))
  for (int64_t c = 0; c < s.C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double scale = gamma[c] * invstd, shift = beta[c] - running_mean[c] * scale;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      T* yc = y + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) yc[i] = static_cast<T>(xc[i] * scale + shift);
    }
  }
}

// With xhat = (x - mean) * invstd and M = N*HW:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma)
template <typename T>
void batchnorm_backward(const BatchNormShape& s, const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta, bool accumulate_dx, bool accumulate_params) {
  const int64_t M = s.N * s.HW;
#pragma omp parallel for schedule(static) if (s.N * s.C * s.HW >= (1 << 15))
  for (int64_t c = 0; c < s.C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      const T* dyc = dy + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) {
        sum_dy += dyc[i];
        sum_dy_xhat += dyc[i] * (xc[i] - mean) * invstd;
      }
    }
    const double k = gamma[c] * invstd / static_cast<double>(M);
    for (int64_t n = 0; n < s.N; ++n) {
      const T* xc = x + (n * s.C + c) * s.HW;
      const T* dyc = dy + (n * s.C + c) * s.HW;
      T* dxc = dx + (n * s.C + c) * s.HW;
      for (int64_t i = 0; i < s.HW; ++i) {
        const double xhat = (xc[i] - mean) * invstd;
        const T v = static_cast<T>(k * (static_cast<double>(M) * dyc[i] - sum_dy - xhat * sum_dy_xhat));
        dxc[i] = accumulate_dx ? dxc[i] + v : v;
      }
    }
    dgamma[c] = static_cast<T>(accumulate_params ? dgamma[c] + sum_dy_xhat : sum_dy_xhat);
    dbeta[c] = static_cast<T>(accumulate_params ? dbeta[c] + sum_dy : sum_dy);
  }
}

#define BTS_INSTANTIATE(T)                                                                                        \
  template void batchnorm_forward_train<T>(const BatchNormShape&, const T*, const T*, const T*, T, T, T*, T*, T*, \
                                           T*, T*);                                                               \
  template void batchnorm_forward_eval<T>(const BatchNormShape&, const T*, const T*, const T*, T, const T*,       \
                                          const T*, T*);                                                          \
  template void batchnorm_backward<T>(const BatchNormShape&, const T*, const T*, const T*, const T*, const T*, T*, \
                                      T*, T*, bool, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
