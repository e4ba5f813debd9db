#include "kernels/cpu/importance.h"

#include <algorithm>
#include <vector>

namespace bts::kernels::cpu {

void update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                             const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                             float* last_p) {
  for (int64_t j = 0; j < b; ++j) {
    const double p = credited_probability(prob, label_weights, source_slot, b, M, j);
    if (p < 0) continue;
    const int32_t i = idx[j];
    sum_p[i] += p;
    last_p[i] = static_cast<float>(p);
    visits[i] += 1;
  }
}

int64_t importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                           ImportanceKind kind, bool averaging, bool use_eps, double* w) {
  int64_t seen = 0;
  double max_s = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (visits[i] == 0) continue;
    const double p = averaging ? sum_p[i] / visits[i] : static_cast<double>(last_p[i]);
    w[i] = importance_of(p, kind);
    max_s = seen == 0 ? w[i] : std::max(max_s, w[i]);
    ++seen;
  }
  if (seen == 0) {
    std::fill(w, w + n, 1.0);
    return 0;
  }
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (visits[i] == 0) w[i] = max_s;  // never seen: the maximum importance
    total += w[i];
  }
  const double eps = use_eps ? total / static_cast<double>(n) : 0.0;
  for (int64_t i = 0; i < n; ++i) w[i] += eps;
  return seen;
}

void weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order) {
  std::vector<double> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    keys[static_cast<size_t>(i)] = draw_key(seed, epoch, static_cast<uint64_t>(i), w[i]);
    order[i] = static_cast<int32_t>(i);
  }
  std::stable_sort(order, order + n, [&](int32_t a, int32_t b) {
    return keys[static_cast<size_t>(a)] > keys[static_cast<size_t>(b)];
  });
}

void top_q_weights(const float* loss, int64_t b, int64_t q, float* weights) {
  for (int64_t i = 0; i < b; ++i) weights[i] = loss_rank(loss, b, i) < q ? 1.0f / static_cast<float>(q) : 0.0f;
}

}  // namespace bts::kernels::cpu
