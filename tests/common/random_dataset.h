// A data set of random images for the batch builder's tests on either device: n random c x h x w uint8 images and
// labels in [0, 10) (Rng(seed, 3)), per-channel mean 0.3 + 0.1 c and std 0.2 + 0.05 c, horizontal flips as asked.
#pragma once
#include <cstdint>

#include "data/dataset.h"
#include "engine/rng.h"

namespace bts::test {

inline Dataset random_dataset(int64_t n, int c, int h, int w, bool flip, uint64_t seed) {
  Rng rng(seed, 3);
  Dataset d;
  d.name = "random";
  d.split = "train";
  d.images = Tensor::empty({n, c, h, w}, DType::U8);
  d.labels = Tensor::empty({n}, DType::I32);
  for (int64_t i = 0; i < d.images.numel(); ++i) d.images.data<uint8_t>()[i] = static_cast<uint8_t>(rng.below(256));
  for (int64_t i = 0; i < n; ++i) d.labels.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
  d.classes = 10;
  for (int ch = 0; ch < c; ++ch) {
    d.mean.push_back(0.3f + 0.1f * static_cast<float>(ch));
    d.std.push_back(0.2f + 0.05f * static_cast<float>(ch));
  }
  d.flip = flip;
  return d;
}

}  // namespace bts::test
