// Forgetting events (Toneva et al. 2018), used to pick the core-set of the paper's Figure 1: a sample is
// forgotten when a training forward classifies it wrongly after the previous one classified it correctly.
// Samples never classified correctly count as the most forgotten. Shared by the CPU twin and the CUDA kernel.
#pragma once
#include <cstdint>

#include "kernels/common/hd.h"

namespace bts::kernels {

// Predicted class: the first maximum, as torch.argmax.
BTS_HD int64_t argmax_row(const float* row, int64_t K) {
  int64_t best = 0;
  for (int64_t k = 1; k < K; ++k)
    if (row[k] > row[best]) best = k;
  return best;
}

// One presentation of sample i: correct now or not. last_correct/ever_correct are 0/1 flags.
BTS_HD void forgetting_update(bool correct, int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  if (*last_correct && !correct) *forgets += 1;
  *last_correct = correct ? 1 : 0;
  if (correct) *ever_correct = 1;
}

}  // namespace bts::kernels
