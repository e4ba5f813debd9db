// CIFAR-10 and CIFAR-100, binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
// CIFAR-10: data_batch_1.bin .. data_batch_5.bin, test_batch.bin; record = 1 label byte + 3072 pixel bytes.
// CIFAR-100: train.bin, test.bin; record = coarse label byte + fine label byte + 3072 pixel bytes (fine is used).
// Pixels are three 32x32 planes (R, G, B), rows top to bottom: exactly the NCHW layout, copied as is.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace bts {

enum class CifarKind { Cifar10, Cifar100 };

constexpr int64_t kCifarImageBytes = 3 * 32 * 32;
int64_t cifar_record_bytes(CifarKind kind);

// Decodes the records of one file held in memory. `file` names it in errors: size not a whole number of records
// (truncated record), empty, label out of range, or a record count other than expected_records (when >= 0).
ImageSet parse_cifar(const uint8_t* data, size_t size, const std::string& file, CifarKind kind,
                     int64_t expected_records = -1);
// Reads and concatenates files (each checked as above, then decoded straight into the result).
ImageSet read_cifar_files(const std::vector<std::string>& files, CifarKind kind, int64_t records_per_file = -1);

// `dir` is the extracted folder (cifar-10-batches-bin / cifar-100-binary) or its parent.
DataSplit load_cifar10(const std::string& dir);
DataSplit load_cifar100(const std::string& dir);

}  // namespace bts
