#include "kernels/cpu/selective_backprop.h"

#include <algorithm>

#include "kernels/common/check.h"
#include "kernels/common/selective_backprop.h"

namespace bts::kernels::cpu {

void sb_append_history(float* history, int64_t R, int64_t appended, const float* loss, int64_t b) {
  // As the CUDA launcher: more losses than the ring holds are refused (there they would race for a position).
  BTS_CHECK(b >= 0 && b <= R, "sb_append_history: " << b << " losses for a history of " << R);
  for (int64_t j = 0; j < b; ++j) history[(appended + j) % R] = loss[j];
}

int64_t sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta, bool prime,
                  uint64_t seed, uint64_t step, int32_t* slots) {
  int64_t count = 0;
  for (int64_t j = 0; j < b; ++j)
    if (sb_selected(history, len, loss[j], beta, prime, seed, step, static_cast<uint32_t>(j)))
      slots[count++] = static_cast<int32_t>(j);
  return count;
}

int64_t sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss, const int32_t* scored_epoch,
                       int64_t epoch, int64_t staleness, float* loss, int32_t* need) {
  int64_t count = 0;
  for (int64_t j = 0; j < b; ++j) {
    const int32_t i = idx[j];
    if (sb_loss_is_fresh(scored_epoch[i], epoch, staleness))
      loss[j] = cached_loss[i];
    else
      need[count++] = static_cast<int32_t>(j);
  }
  return count;
}

void sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored, int64_t epoch,
                       float* loss, float* cached_loss, int32_t* scored_epoch) {
  for (int64_t t = 0; t < count; ++t) {
    const int32_t j = need[t], i = idx[j];
    loss[j] = scored[t];
    cached_loss[i] = scored[t];
    scored_epoch[i] = static_cast<int32_t>(epoch);
  }
}

template <typename T>
static void gather(const T* src, int64_t row_elems, const int32_t* slots, int64_t count, T* dst) {
  for (int64_t t = 0; t < count; ++t)
    std::copy_n(src + static_cast<int64_t>(slots[t]) * row_elems, row_elems, dst + t * row_elems);
}
void gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst) {
  gather(src, row_elems, slots, count, dst);
}
void gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count, int32_t* dst) {
  gather(src, row_elems, slots, count, dst);
}

}  // namespace bts::kernels::cpu
