// CPU twins of the p-SGD/c-SGD kernels (kernels/cuda/importance.h): statistics updates, weights, ordered draws.
#pragma once
#include <cstdint>

#include "kernels/common/importance.h"

namespace bts::kernels::cpu {

// For batch slot j: sample idx[j] is credited with credited_probability (its own label's probability; under
// mixing the label-weighted mean over the targets it is the source of: label_weights and source_slot [b, M],
// both nullptr when M = 1) and one visit (under mixup/RICAP a source's label weights sum to 1).
void update_importance_stats(const int32_t* idx, const float* prob, const float* label_weights,
                             const int32_t* source_slot, int64_t b, int64_t M, double* sum_p, int32_t* visits,
                             float* last_p);
// w_i = s_i + eps: s_i from the mean (averaging) or last p; never-seen samples get max over seen s; eps = mean of
// those s (when use_eps). Nothing seen yet: all weights 1. Returns the number of seen samples.
int64_t importance_weights(int64_t n, const double* sum_p, const int32_t* visits, const float* last_p,
                           ImportanceKind kind, bool averaging, bool use_eps, double* w);
// order = indices sorted by draw_key descending (stable); its first k entries are k draws without replacement.
void weighted_order(uint64_t seed, uint64_t epoch, int64_t n, const double* w, int32_t* order);

// OSGD's per-batch weights: 1/q on the q largest losses, 0 elsewhere (gradient flows only through those q).
void top_q_weights(const float* loss, int64_t b, int64_t q, float* weights);

}  // namespace bts::kernels::cpu
