#include "kernels/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>

namespace bts::kernels::cpu {

namespace {
template <typename T> double log_sum_exp(const T* z, int64_t K, double* max_out) {
  double mx = z[0];
  for (int64_t k = 1; k < K; ++k) mx = std::max(mx, static_cast<double>(z[k]));
  double sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += std::exp(z[k] - mx);
  *max_out = mx;
  return mx + std::log(sum);
}
}  // namespace

template <typename T>
T cross_entropy_forward(const CrossEntropyShape& s, const T* logits, const int32_t* labels, const T* label_weights,
                        const T* sample_weights, T* loss_per_sample, T* prob_per_target) {
  double total = 0;
  for (int64_t i = 0; i < s.N; ++i) {
    const T* z = logits + i * s.K;
    double mx;
    const double lse = log_sum_exp(z, s.K, &mx);
    double loss = 0;
    for (int64_t m = 0; m < s.M; ++m) {
      const int32_t y = labels[i * s.M + m];
      loss += label_weights[i * s.M + m] * (lse - z[y]);
      if (prob_per_target) prob_per_target[i * s.M + m] = static_cast<T>(std::exp(z[y] - lse));
    }
    if (loss_per_sample) loss_per_sample[i] = static_cast<T>(loss);
    total += sample_weights[i] * loss;
  }
  return static_cast<T>(total);
}

template <typename T>
void cross_entropy_backward(const CrossEntropyShape& s, const T* logits, const int32_t* labels,
                            const T* label_weights, const T* sample_weights, T dtotal, T* dlogits, bool accumulate) {
  for (int64_t i = 0; i < s.N; ++i) {
    const T* z = logits + i * s.K;
    T* dz = dlogits + i * s.K;
    double mx;
    const double lse = log_sum_exp(z, s.K, &mx);
    const double scale = static_cast<double>(dtotal) * sample_weights[i];
    for (int64_t k = 0; k < s.K; ++k) {
      const T g = static_cast<T>(scale * std::exp(z[k] - lse));
      dz[k] = accumulate ? dz[k] + g : g;
    }
    for (int64_t m = 0; m < s.M; ++m) dz[labels[i * s.M + m]] -= static_cast<T>(scale * label_weights[i * s.M + m]);
  }
}

#define BTS_INSTANTIATE(T)                                                                                      \
  template T cross_entropy_forward<T>(const CrossEntropyShape&, const T*, const int32_t*, const T*, const T*, T*, \
                                      T*);                                                                      \
  template void cross_entropy_backward<T>(const CrossEntropyShape&, const T*, const int32_t*, const T*, const T*, \
                                          T, T*, bool);
BTS_INSTANTIATE(float)
BTS_INSTANTIATE(double)
#undef BTS_INSTANTIATE

}  // namespace bts::kernels::cpu
