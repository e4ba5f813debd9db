// CPU twin of kernels/cuda/forgetting.h: per-sample forgetting statistics from a training batch's logits.
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

// For batch slot j (sample idx[j], label labels[j]): correct = argmax(logits[j]) == label; updates the three
// per-sample arrays (forgetting_update). Indices within a batch are distinct.
void update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b, int64_t K,
                       int32_t* last_correct, int32_t* ever_correct, int32_t* forgets);

}  // namespace bts::kernels::cpu
