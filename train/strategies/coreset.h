// Forgetting events per sample (Toneva et al. 2018) over a run's training forwards, and the core-set they
// define (the paper's Figure 1): the k most forgotten samples, never-learned samples first.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "engine/tensor_file.h"

namespace bts {

class ForgettingTracker {
 public:
  ForgettingTracker(int64_t train_size, Device device);
  // One training batch: logits [b, K], labels [b] (the true labels; no mixing), data-set indices [b].
  void update(const Tensor& logits, const Tensor& labels, const Tensor& indices);
  void save(TensorMap& m) const;  // checkpoint entries
  void load(const TensorMap& m);
  // forgetting.bin: I32 "forgets", "ever_correct", "last_correct" (tensor file, written atomically).
  void write(const std::string& path) const;

 private:
  Tensor last_correct_, ever_correct_, forgets_;
};

// The k most forgotten samples of a forgetting.bin: never-learned samples first, then by forgetting count
// descending; ties in a random order fixed by `seed`. Sorted by index. `presented` (the selection run's
// presentation counts; empty: unknown) ranks samples that were never shown last, not as never learned.
std::vector<int32_t> most_forgotten(const std::string& forgetting_file, int64_t k, uint64_t seed,
                                    const std::vector<int32_t>& presented = {});

}  // namespace bts
