#include "kernels/cpu/pool.h"

#include <algorithm>
#include <vector>

namespace bts::kernels::cpu {

template <typename T> void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const T* x, T* y) {
  for (int64_t nc = 0; nc < N * C; ++nc) {
    double acc = 0;
    for (int64_t i = 0; i < HW; ++i) acc += x[nc * HW + i];
    y[nc] = static_cast<T>(acc / static_cast<double>(HW));
  }
}

template <typename T>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate) {
  for (int64_t nc = 0; nc < N * C; ++nc) {
    const T g = dy[nc] / static_cast<T>(HW);
    for (int64_t i = 0; i < HW; ++i) dx[nc * HW + i] = accumulate ? dx[nc * HW + i] + g : g;
  }
}

template <typename T> void global_avg_pool_forward_nhwc(int64_t N, int64_t C, int64_t HW, const T* x, T* y) {
  thread_local std::vector<double> acc;  // grow-only: no allocation once the widest layer has been seen
  if (acc.size() < static_cast<size_t>(C)) acc.resize(static_cast<size_t>(C));
  for (int64_t n = 0; n < N; ++n) {
    std::fill(acc.begin(), acc.begin() + C, 0.0);
    for (int64_t i = 0; i < HW; ++i)
      for (int64_t c = 0; c < C; ++c) acc[c] += x[(n * HW + i) * C + c];
    for (int64_t c = 0; c < C; ++c) y[n * C + c] = static_cast<T>(acc[c] / static_cast<double>(HW));
  }
}

template <typename T>
void global_avg_pool_backward_nhwc(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i) {
      T* o = dx + (n * HW + i) * C;
      for (int64_t c = 0; c < C; ++c) {
        const T g = dy[n * C + c] / static_cast<T>(HW);
        o[c] = accumulate ? o[c] + g : g;
      }
    }
}

template <typename T> void global_avg_pool_forward_blocked16(int64_t N, int64_t C, int64_t HW, const T* x, T* y) {
  const int64_t CB = C / 16;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < CB; ++b) {
      double acc[16] = {};
      const T* xb = x + ((n * CB + b) * HW) * 16;
      for (int64_t i = 0; i < HW; ++i)
        for (int l = 0; l < 16; ++l) acc[l] += xb[i * 16 + l];
      for (int l = 0; l < 16; ++l) y[n * C + b * 16 + l] = static_cast<T>(acc[l] / static_cast<double>(HW));
    }
}

template <typename T>
void global_avg_pool_backward_blocked16(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, bool accumulate) {
  const int64_t CB = C / 16;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < CB; ++b) {
      T* ob = dx + ((n * CB + b) * HW) * 16;
      for (int64_t i = 0; i < HW; ++i)
        for (int l = 0; l < 16; ++l) {
          const T g = dy[n * C + b * 16 + l] / static_cast<T>(HW);
          ob[i * 16 + l] = accumulate ? ob[i * 16 + l] + g : g;
        }
    }
}

template void global_avg_pool_forward<float>(int64_t, int64_t, int64_t, const float*, float*);
template void global_avg_pool_forward<double>(int64_t, int64_t, int64_t, const double*, double*);
template void global_avg_pool_backward<float>(int64_t, int64_t, int64_t, const float*, float*, bool);
template void global_avg_pool_backward<double>(int64_t, int64_t, int64_t, const double*, double*, bool);
template void global_avg_pool_forward_nhwc<float>(int64_t, int64_t, int64_t, const float*, float*);
template void global_avg_pool_forward_nhwc<double>(int64_t, int64_t, int64_t, const double*, double*);
template void global_avg_pool_backward_nhwc<float>(int64_t, int64_t, int64_t, const float*, float*, bool);
template void global_avg_pool_backward_nhwc<double>(int64_t, int64_t, int64_t, const double*, double*, bool);
template void global_avg_pool_forward_blocked16<float>(int64_t, int64_t, int64_t, const float*, float*);
template void global_avg_pool_forward_blocked16<double>(int64_t, int64_t, int64_t, const double*, double*);
template void global_avg_pool_backward_blocked16<float>(int64_t, int64_t, int64_t, const float*, float*, bool);
template void global_avg_pool_backward_blocked16<double>(int64_t, int64_t, int64_t, const double*, double*, bool);

}  // namespace bts::kernels::cpu
