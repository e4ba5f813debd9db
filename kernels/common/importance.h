// p-SGD and c-SGD (Chang et al. 2017, as adapted by the paper; METHODS.md): shared by the CPU twin and the GPU.
// Per sample: the running mean (or, as a Figure 1 variant, the last value) of its true-class probability p from
// the training forwards. Importance: p-SGD s = 1 - p, c-SGD s = p (1 - p). Draws without replacement
// proportional to w use the key log(u) / w (Efraimidis-Spirakis): the k largest keys are the k draws.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/philox.h"
#include "kernels/common/rounded.h"

namespace bts::kernels {

enum class ImportanceKind : int { Loss = 0 /* p-SGD */, Confidence = 1 /* c-SGD */ };

constexpr uint32_t kImportanceStream = 0x494D5053u;  // distinguishes these draws from the others

BTS_HD double importance_of(double p, ImportanceKind kind) {
  return kind == ImportanceKind::Loss ? 1.0 - p : mul_rn(p, 1.0 - p);
}

// The probability credited to batch slot s (METHODS.md, "Ours" under mixup/RICAP): the label-weighted mean of
// the probabilities the model gave slot s's own label wherever s is a source in the batch. source_slot [b, M]
// names each target's source slot (each column a permutation of the slots); nullptr means M = 1 and slot s's own
// row. Fixed summation order (columns, then rows) and separately rounded products and sums (no fused
// multiply-add on the GPU), so the CPU and the GPU agree bit for bit. Returns -1 when s carries no weight anywhere.
BTS_HD double credited_probability(const float* prob, const float* label_weights, const int32_t* source_slot,
                                   int64_t b, int64_t M, int64_t s) {
  if (source_slot == nullptr) return prob[s * M];
  double num = 0, den = 0;
  for (int64_t k = 0; k < M; ++k)
    for (int64_t j = 0; j < b; ++j)
      if (source_slot[j * M + k] == s) {
        const double w = label_weights ? static_cast<double>(label_weights[j * M + k]) : 1.0;
        num = add_rn(num, mul_rn(w, static_cast<double>(prob[j * M + k])));
        den = add_rn(den, w);
      }
  return den > 0 ? num / den : -1.0;
}

// The key of sample i in epoch e for weight w > 0; -inf for w <= 0 (never drawn while others remain).
// Not a bit-for-bit twin: the device's log and glibc's may differ in the last bit. Keys are continuous draws, so
// such a difference reorders two samples only when their keys lie within an ulp of each other; the GPU test
// compares the draws (the orders), not the keys.
BTS_HD double draw_key(uint64_t seed, uint64_t epoch, uint64_t i, double w) {
  const Philox4 r = philox4x32_10(static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                                  static_cast<uint32_t>(epoch), kImportanceStream, seed);
  const double u = uniform_open0(r.v[0], r.v[1]);
  return w > 0 ? log(u) / w : -HUGE_VAL;
}

}  // namespace bts::kernels

namespace bts::kernels {

// Ordered SGD (Kawaguchi & Lu 2020): q from the epoch's training accuracy, for batch size s:
// s; floor(s/2) once accuracy >= 80%; floor(s/4) >= 90%; floor(s/8) >= 95%; floor(s/16) >= 99.5%.
BTS_HD int64_t osgd_q(int64_t s, double train_accuracy) {
  int64_t q = s;
  if (train_accuracy >= 0.80) q = s / 2;
  if (train_accuracy >= 0.90) q = s / 4;
  if (train_accuracy >= 0.95) q = s / 8;
  if (train_accuracy >= 0.995) q = s / 16;
  return q < 1 ? 1 : q;
}

// Rank of loss i in a batch, descending, ties by position (0 = largest loss).
BTS_HD int64_t loss_rank(const float* loss, int64_t b, int64_t i) {
  int64_t r = 0;
  for (int64_t j = 0; j < b; ++j) r += loss[j] > loss[i] || (loss[j] == loss[i] && j < i);
  return r;
}

}  // namespace bts::kernels
