#include "kernels/cpu/sgd.h"

namespace bts::kernels::cpu {

template <typename T> void sgd_step(int64_t n, T* w, const T* g, T* buf, const double* lr_word, const SgdHyper& h) {
  const T lr = static_cast<T>(*lr_word), mom = static_cast<T>(h.momentum), wd = static_cast<T>(h.weight_decay);
  for (int64_t i = 0; i < n; ++i) sgd_update_one(w[i], g[i], buf[i], lr, mom, wd, h.nesterov);
}

template void sgd_step<float>(int64_t, float*, const float*, float*, const double*, const SgdHyper&);
template void sgd_step<double>(int64_t, double*, const double*, double*, const double*, const SgdHyper&);

}  // namespace bts::kernels::cpu
