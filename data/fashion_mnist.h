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
// Where an empty data_dir looks: $BTS_FASHION_MNIST_DIR when set and not empty (a machine whose copy lives
// elsewhere, e.g. the GPU machine's carried .carry/data/fashion-mnist), else kFashionMnistDefaultDir.
std::string fashion_mnist_default_dir();
// True when `dir` (empty: the default above) holds the training images, plain or .gz.
bool have_fashion_mnist(const std::string& dir = "");
// Empty `dir` = fashion_mnist_default_dir().
DataSplit load_fashion_mnist(const std::string& dir);

}  // namespace bts
