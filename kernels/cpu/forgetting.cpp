#include "kernels/cpu/forgetting.h"

#include "kernels/common/forgetting.h"

namespace bts::kernels::cpu {

void update_forgetting(const float* logits, const int32_t* labels, const int32_t* idx, int64_t b, int64_t K,
                       int32_t* last_correct, int32_t* ever_correct, int32_t* forgets) {
  for (int64_t j = 0; j < b; ++j) {
    const int32_t i = idx[j];
    const bool correct = argmax_row(logits + j * K, K) == labels[j];
    forgetting_update(correct, last_correct + i, ever_correct + i, forgets + i);
  }
}

}  // namespace bts::kernels::cpu
