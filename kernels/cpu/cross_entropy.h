// Softmax cross-entropy with soft targets and per-sample weights, the one loss every method here needs:
//   sample i has M (label, weight) targets: M = 1 for plain labels, 2 for mixup, 4 for RICAP; weights sum to 1.
//   loss_i = sum_m w_im * (logsumexp(z_i) - z_i[y_im])          (per-sample loss, returned)
//   prob_im = softmax(z_i)[y_im]                                (each target's probability, returned)
//   total = sum_i sample_weight_i * loss_i                      (sample_weight = 1/N gives the mean;
//                                                                OSGD puts 1/q on its top-q samples, 0 elsewhere)
// Backward: dz_ik = dtotal * sample_weight_i * (softmax(z_i)_k - sum_m w_im [k == y_im]).
#pragma once
#include <cstdint>

namespace bts::kernels::cpu {

struct CrossEntropyShape {
  int64_t N, K, M;
};

template <typename T>
T cross_entropy_forward(const CrossEntropyShape& s, const T* logits, const int32_t* labels, const T* label_weights,
                        const T* sample_weights, T* loss_per_sample, T* prob_per_target);
template <typename T>
void cross_entropy_backward(const CrossEntropyShape& s, const T* logits, const int32_t* labels,
                            const T* label_weights, const T* sample_weights, T dtotal, T* dlogits, bool accumulate);

}  // namespace bts::kernels::cpu
