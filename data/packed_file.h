// The packed image file: one binary file holding a data set's train and test splits, written by
// apps/convert_miniimagenet and memory-mapped by the reader. All integers little-endian.
//
//   offset  size  field
//        0     8  magic "BTSIMGS\0"
//        8     4  version (1)
//       12     4  header bytes (64)
//       16     8  train count
//       24     8  test count
//       32     4  channels
//       36     4  height
//       40     4  width
//       44     4  classes
//       48    16  data set name, zero-padded ("miniimagenet")
//       64        train images (train count x C x H x W uint8, NCHW), train labels (train count x int32),
//                 test images, test labels. Nothing follows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "engine/file_write.h"

namespace bts {

constexpr char kPackedMagic[8] = {'B', 'T', 'S', 'I', 'M', 'G', 'S', '\0'};
constexpr uint32_t kPackedVersion = 1;
constexpr size_t kPackedHeaderBytes = 64;

struct PackedHeader {
  std::string name;
  int64_t train_count = 0, test_count = 0;
  int channels = 0, height = 0, width = 0, classes = 0;
};

// Total file size the header implies (header + both splits' images and labels).
uint64_t packed_file_bytes(const PackedHeader& h);
// Validates magic, version, header size, plausible shape and counts, and that `size` equals packed_file_bytes.
PackedHeader parse_packed_header(const uint8_t* data, size_t size, const std::string& file);
void encode_packed_header(const PackedHeader& h, uint8_t out[kPackedHeaderBytes]);

struct PackedContents {
  PackedHeader header;
  ImageSet train, test;
};
// Parses a whole packed file in memory (labels checked against the header's class count).
PackedContents parse_packed(const uint8_t* data, size_t size, const std::string& file);
// Maps `path` and parses it.
PackedContents read_packed(const std::string& path);

// Streams a packed file to `path` (through path + ".tmp", an AtomicFile renamed by finish(), so a failure leaves
// nothing half-written). Images go out one or many at a time, so the converter writes its permuted order straight from
// its pool without building permuted copies.
class PackedWriter {
 public:
  PackedWriter(const std::string& path, const PackedHeader& h);
  // Destroyed without finish() (an error on the way), the temporary file is removed.
  PackedWriter(const PackedWriter&) = delete;
  PackedWriter& operator=(const PackedWriter&) = delete;
  // Write in file order: every train image, then train labels, then test images, then test labels.
  void write_images(const uint8_t* data, size_t n_images);
  void write_labels(const int32_t* labels, size_t n);
  void finish();

 private:
  void write(const void* p, size_t bytes);
  AtomicFile file_;
  PackedHeader h_;
  uint64_t written_ = 0;
};

// Writes both splits (tests and small conversions; same format as PackedWriter).
void write_packed(const std::string& path, const std::string& name, int classes, const ImageSet& train,
                  const ImageSet& test);

}  // namespace bts
