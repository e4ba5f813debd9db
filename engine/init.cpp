#include "engine/init.h"

#include <cmath>
#include <vector>

#include "engine/rng.h"

namespace bts {

void init_parameters(ParameterStore& store, uint64_t seed) {
  uint64_t stream = 0;
  for (const auto& p : store.items()) {
    Rng rng(seed, ++stream);
    const int64_t n = shape_numel(p->shape);
    std::vector<double> v(static_cast<size_t>(n));
    switch (p->init) {
      case Init::KaimingNormalFanOut: {
        const double fan_out = static_cast<double>(n / p->shape[1]);  // K * R * S of a [K, C, R, S] weight
        const double std = std::sqrt(2.0 / fan_out);
        for (auto& x : v) x = std * rng.normal();
        break;
      }
      case Init::LinearWeight:
      case Init::LinearBias: {
        const double bound = 1.0 / std::sqrt(static_cast<double>(p->fan_in));
        for (auto& x : v) x = (2.0 * rng.uniform() - 1.0) * bound;
        break;
      }
      case Init::Ones: for (auto& x : v) x = 1.0; break;
      case Init::Zeros: for (auto& x : v) x = 0.0; break;
    }
    Tensor host = Tensor::empty(p->shape, store.dtype());
    if (store.dtype() == DType::F64) {
      for (int64_t i = 0; i < n; ++i) host.data<double>()[i] = v[static_cast<size_t>(i)];
    } else {
      BTS_CHECK(store.dtype() == DType::F32, "parameters must be f32 or f64");
      for (int64_t i = 0; i < n; ++i) host.data<float>()[i] = static_cast<float>(v[static_cast<size_t>(i)]);
    }
    p->data.copy_from(host);
  }
}

}  // namespace bts
