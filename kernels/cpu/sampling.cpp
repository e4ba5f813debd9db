#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <vector>

#include "kernels/common/sampling.h"

namespace bts::kernels::cpu {

void random_order(uint64_t seed, uint64_t epoch, int64_t n, int32_t* order) {
  std::vector<uint64_t> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    keys[static_cast<size_t>(i)] = permutation_key(seed, epoch, static_cast<uint64_t>(i));
    order[i] = static_cast<int32_t>(i);
  }
  std::stable_sort(order, order + n, [&](int32_t a, int32_t b) {
    return keys[static_cast<size_t>(a)] < keys[static_cast<size_t>(b)];
  });
}

void add_counts(const int32_t* idx, int64_t b, int32_t* counts, const float* weights) {
  for (int64_t j = 0; j < b; ++j)
    if (weights == nullptr || weights[j] > 0) ++counts[idx[j]];
}

void accumulate_batch_stats(const float* logits, const float* loss, const int32_t* labels, int64_t N, int64_t K,
                            int64_t M, double* stats) {
  for (int64_t i = 0; i < N; ++i) {
    const float* z = logits + i * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[k] > z[best]) best = k;
    stats[0] += loss[i];
    stats[1] += best == labels[i * M] ? 1.0 : 0.0;
  }
}

}  // namespace bts::kernels::cpu
