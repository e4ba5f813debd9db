// mini-ImageNet (Vinyals et al. 2016; Ravi & Larochelle's train/val/test CSVs), as the paper uses it: all 60,000
// images (100 classes x 600) pooled, permuted with a fixed seed and split 50,000 train / 10,000 test, 84x84 RGB.
// apps/convert_miniimagenet builds the packed file (data/miniimagenet_convert.h); this reads it.
#pragma once
#include <string>

#include "data/dataset.h"

namespace bts {

constexpr const char* kMiniImagenetFile = "miniimagenet.bin";

// `dir` is the packed file itself or a folder holding kMiniImagenetFile.
DataSplit load_miniimagenet(const std::string& dir);

}  // namespace bts
