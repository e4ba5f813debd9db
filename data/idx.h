// IDX files (the MNIST family's format, http://yann.lecun.com/exdb/mnist/): magic 00 00 <type> <rank>, then rank
// big-endian uint32 dimensions, then the elements in row-major order. Only unsigned bytes (type 0x08) are read:
// that is what images and labels use. Plain or gzip-compressed (.gz, decompressed with zlib).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/file_io.h"

namespace bts {

// Decompressed sizes above this are rejected (Fashion-MNIST's largest file is 47 MB).
constexpr size_t kIdxMaxInflatedBytes = size_t(1) << 30;

struct IdxArray {
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;  // points into the parsed buffer
  size_t bytes = 0;
};

// Parses an uncompressed IDX image in memory. Throws naming `file` on a bad magic, a type other than unsigned
// byte, a rank outside 1..4, a truncated header, or a data size other than the product of the dimensions.
IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& file);

// The bytes of a file, decompressed when it starts with the gzip magic.
class IdxFileBytes {
 public:
  explicit IdxFileBytes(const std::string& path, size_t max_inflated = kIdxMaxInflatedBytes);
  const uint8_t* data() const { return map_ ? map_->data() : inflated_.data(); }
  size_t size() const { return map_ ? map_->size() : inflated_.size(); }

 private:
  std::unique_ptr<MappedFile> map_;
  std::vector<uint8_t> inflated_;
};

// An images file (N, H, W) and a labels file (N) -> N grey images (N, 1, H, W); labels checked against
// `classes`, counts against each other.
ImageSet read_idx_pair(const std::string& images_file, const std::string& labels_file, int classes);

}  // namespace bts
