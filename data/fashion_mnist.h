// Fashion-MNIST (Xiao et al. 2017): 60,000 train / 10,000 test grey 28x28 images, 10 classes, in IDX files
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain
// or .gz. Debian's package dataset-fashion-mnist installs the .gz files in kFashionMnistDefaultDir.
#pragma once
#include <string>

#include "data/dataset.h"

namespace bts {

constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

// `base` ("train-images-idx3-ubyte") in `dir`, plain if present, else with ".gz"; throws naming both paths.
std::string find_idx_file(const std::string& dir, const std::string& base);
// Empty `dir` = kFashionMnistDefaultDir.
DataSplit load_fashion_mnist(const std::string& dir);

}  // namespace bts
