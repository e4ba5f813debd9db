// Builds mini-ImageNet's packed file (data/packed_file.h) from the images and the train/val/test CSVs
// ("filename,label" rows, Ravi & Larochelle's split files). The paper does not keep that split: it pools all
// images, permutes them with a fixed seed and takes the first train_count for training, the rest for testing.
// Images are decoded with stb_image (JPEG, PNG, PPM, ...), forced to RGB, and resized with stb_image_resize to
// size x size when they are not already. Classes are the CSV labels (WordNet ids) in sorted order.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bts {

struct CsvRow {
  std::string file;
  std::string label;
  int line = 0;  // 1-based line in the CSV, for error messages
};

// Reads "filename,label" rows after the header line "filename,label". Throws naming the file and line.
std::vector<CsvRow> read_split_csv(const std::string& path);

struct MiniImagenetConvertOptions {
  std::string csv_dir;            // holds train.csv, val.csv, test.csv
  std::string image_dir;          // holds the files the CSVs name
  std::string out_path;           // the packed file to write
  uint64_t seed = 0;              // the fixed permutation seed (docs/DATA.md)
  int64_t train_count = 50000;    // the first train_count of the permutation; the rest is the test split
  // > 0: the CSVs must list exactly train_count + test_count images, checked before any image is read (every
  // image is held in memory until the permuted write: a CSV of millions of rows would ask for tens of GB).
  int64_t test_count = 0;
  int size = 84;                  // output side in pixels
  std::function<void(int64_t done, int64_t total)> progress;  // optional, called while decoding
};

struct MiniImagenetConvertReport {
  int64_t images = 0, resized = 0, classes = 0, train = 0, test = 0;
};

MiniImagenetConvertReport convert_miniimagenet(const MiniImagenetConvertOptions& opt);

// The pooled order -> packed order permutation: Fisher-Yates driven by bts::Rng(seed, kMiniImagenetStream).
std::vector<int64_t> miniimagenet_permutation(int64_t n, uint64_t seed);

}  // namespace bts
