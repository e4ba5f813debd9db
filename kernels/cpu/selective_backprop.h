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
// dst rows [t] = src rows [slots[t]] for t < count; a row has row_elems elements (floats or ints).
void gather_rows(const float* src, int64_t row_elems, const int32_t* slots, int64_t count, float* dst);
void gather_rows(const int32_t* src, int64_t row_elems, const int32_t* slots, int64_t count, int32_t* dst);

}  // namespace bts::kernels::cpu
