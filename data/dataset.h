// A data set in memory: uint8 images (N, C, H, W) and int32 labels on the host, with the constants the
// trainer needs (class count, per-channel mean/std, whether horizontal flips are allowed). load_dataset is the
// one entry point from a name and a folder; the per-format readers live in cifar.h, svhn.h, idx.h, packed_file.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bts {

// Raw decoded samples, before they are tied to a data set's constants.
struct ImageSet {
  Tensor images;  // U8 [N, C, H, W], host
  Tensor labels;  // I32 [N], host
  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

// What is fixed about each data set (METHODS.md, "Data sets" and "Standard augmentation").
struct DatasetInfo {
  std::string name;
  int classes;
  int channels, height, width;
  int64_t train_count, test_count;
  std::vector<float> mean, std;  // per channel, in [0, 1] pixel units
  bool flip;                     // horizontal flip in the standard augmentation (false for SVHN: digits)
};

struct Dataset {
  std::string name;   // "cifar10", ...
  std::string split;  // "train" or "test"
  Tensor images;      // U8 [N, C, H, W], host
  Tensor labels;      // I32 [N], host, each in [0, classes)
  int classes = 0;
  // Normalised value = (pixel / 255 - mean[c]) / std[c].
  std::vector<float> mean, std;
  bool flip = true;

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
  int channels() const { return static_cast<int>(images.dim(1)); }
  int height() const { return static_cast<int>(images.dim(2)); }
  int width() const { return static_cast<int>(images.dim(3)); }
};

struct DataSplit {
  Dataset train;
  Dataset test;
};

// "cifar10", "cifar100", "svhn", "miniimagenet", "fashion-mnist".
const std::vector<std::string>& dataset_names();
// Throws for an unknown name, listing the valid ones.
const DatasetInfo& dataset_info(const std::string& name);

// Loads both splits of a data set from `dir` (layouts in docs/DATA.md). For "fashion-mnist" an empty dir means
// fashion_mnist_default_dir() ($BTS_FASHION_MNIST_DIR, else the Debian package's folder). Counts, shapes and labels are checked against
// dataset_info(name); any mismatch throws naming the file, what was expected and what was found.
DataSplit load_dataset(const std::string& name, const std::string& dir);

// Ties decoded samples to a data set: checks shape (C, H, W), labels in [0, classes) and, when expected_count
// >= 0, the sample count; `source` names the file(s) in the error messages.
Dataset make_dataset(const DatasetInfo& info, const std::string& split, ImageSet&& set, int64_t expected_count,
                     const std::string& source);

}  // namespace bts
