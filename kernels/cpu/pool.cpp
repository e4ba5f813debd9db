#include "kernels/cpu/pool.h"

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

template void global_avg_pool_forward<float>(int64_t, int64_t, int64_t, const float*, float*);
template void global_avg_pool_forward<double>(int64_t, int64_t, int64_t, const double*, double*);
template void global_avg_pool_backward<float>(int64_t, int64_t, int64_t, const float*, float*, bool);
template void global_avg_pool_backward<double>(int64_t, int64_t, int64_t, const double*, double*, bool);

}  // namespace bts::kernels::cpu
