// CPU twins of the selective-backprop kernels (kernels/cuda/selective_backprop.h): the loss-history ring,
// the per-batch selection with its compaction, and the row gathers that fill the backprop queue.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

// history is a ring of R losses; `appended` losses were written before this call. Writes loss[0, b) at
// positions (appended + j) % R. Needs b <= R.
void sb_append_history(float* history, int64_t R, int64_t appended, const float* loss, int64_t b);
// Selection over a batch of b with history[0, len): slots[0, count) = the selected slots in order; returns count.
int64_t sb_select(const float* loss, int64_t b, const float* history, int64_t len, double beta, bool prime,
                  uint64_t seed, uint64_t step, int32_t* slots);
// Staleness: slot j reuses its sample's cached loss when it was scored within the last `staleness` epochs
// (epoch - scored_epoch[idx[j]] <= staleness); loss[j] gets that cached loss. The others are listed in
// need[0, count) (slot order) for a scoring forward; returns count.
int64_t sb_split_stale(const int32_t* idx, int64_t b, const float* cached_loss, const int32_t* scored_epoch,
                       int64_t epoch, int64_t staleness, float* loss, int32_t* need);
// After scoring the listed slots: loss[need[t]] = scored[t], and each one's cache entry refreshed.
void sb_scatter_scores(const int32_t* idx, const int32_t* need, int64_t count, const float* scored, int64_t epoch,
                       float* loss, float* cached_loss, int32_t* scored_epoch);
// dst rows [t] = src rows [slots[t]] for t < count; a row has row_elems elements (floats or ints).
void gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst);
void gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count, int32_t* dst);

}  // namespace bts::kernels::cpu
