#include "data/cifar.h"

#include <cstring>
#include <memory>

#include "data/fetch.h"
#include "data/file_io.h"
#include "kernels/common/check.h"

namespace bts {

namespace {

const char* kind_name(CifarKind k) { return k == CifarKind::Cifar10 ? "CIFAR-10" : "CIFAR-100"; }

// Validates the size of one file and returns its record count.
int64_t checked_record_count(size_t size, const std::string& file, CifarKind kind, int64_t expected) {
  const int64_t rec = cifar_record_bytes(kind);
  const int64_t n = static_cast<int64_t>(size) / rec, rest = static_cast<int64_t>(size) % rec;
  BTS_CHECK(size > 0, "'" << file << "': empty file, expected " << kind_name(kind) << " records of " << rec
                          << " bytes");
  BTS_CHECK(rest == 0, "'" << file << "': " << with_commas(size) << " bytes is not a whole number of " << rec
                           << "-byte " << kind_name(kind) << " records: record " << n << " is truncated (" << rest
                           << " of " << rec << " bytes present)");
  BTS_CHECK(expected < 0 || n == expected,
            "'" << file << "': expected " << with_commas(expected) << " " << kind_name(kind) << " records ("
                << with_commas(expected * rec) << " bytes), found " << with_commas(n) << " ("
                << with_commas(size) << " bytes)");
  return n;
}

void decode_records(const uint8_t* data, int64_t n, const std::string& file, CifarKind kind, uint8_t* images,
                    int32_t* labels) {
  const int64_t rec = cifar_record_bytes(kind);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = data + i * rec;
    int label;
    if (kind == CifarKind::Cifar10) {
      label = r[0];
      BTS_CHECK(label < 10, "'" << file << "': record " << i << " has label " << label << ", expected 0..9");
    } else {
      BTS_CHECK(r[0] < 20, "'" << file << "': record " << i << " has coarse label " << int(r[0])
                               << ", expected 0..19");
      label = r[1];
      BTS_CHECK(label < 100, "'" << file << "': record " << i << " has fine label " << label << ", expected 0..99");
    }
    labels[i] = label;
    std::memcpy(images + i * kCifarImageBytes, r + (rec - kCifarImageBytes), kCifarImageBytes);
  }
}

// The user may point at the extracted folder or at the folder that holds it.
std::string resolve_dir(const std::string& dir, const std::string& probe, const std::string& subdir, CifarKind k) {
  if (path_exists(join_path(dir, probe))) return dir;
  const std::string nested = join_path(dir, subdir);
  if (path_exists(join_path(nested, probe))) return nested;
  BTS_FAIL(kind_name(k) << ": '" << join_path(dir, probe) << "' not found (nor '" << join_path(nested, probe)
                        << "'); expected --data-dir to be the extracted binary version (" << subdir << ") "
                        << fetch_hint(k == CifarKind::Cifar10 ? "cifar10" : "cifar100", dir));
}

}  // namespace

int64_t cifar_record_bytes(CifarKind kind) { return (kind == CifarKind::Cifar10 ? 1 : 2) + kCifarImageBytes; }

ImageSet parse_cifar(const uint8_t* data, size_t size, const std::string& file, CifarKind kind,
                     int64_t expected_records) {
  const int64_t n = checked_record_count(size, file, kind, expected_records);
  ImageSet s{Tensor::empty({n, 3, 32, 32}, DType::U8), Tensor::empty({n}, DType::I32)};
  decode_records(data, n, file, kind, s.images.data<uint8_t>(), s.labels.data<int32_t>());
  return s;
}

ImageSet read_cifar_files(const std::vector<std::string>& files, CifarKind kind, int64_t records_per_file) {
  BTS_CHECK(!files.empty(), kind_name(kind) << ": no files to read");
  std::vector<std::unique_ptr<MappedFile>> maps;
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const std::string& f : files) {  // check every file before allocating the result
    maps.push_back(std::make_unique<MappedFile>(f));
    counts.push_back(checked_record_count(maps.back()->size(), f, kind, records_per_file));
    total += counts.back();
  }
  ImageSet s{Tensor::empty({total, 3, 32, 32}, DType::U8), Tensor::empty({total}, DType::I32)};
  int64_t at = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    decode_records(maps[i]->data(), counts[i], files[i], kind, s.images.data<uint8_t>() + at * kCifarImageBytes,
                   s.labels.data<int32_t>() + at);
    at += counts[i];
  }
  return s;
}

DataSplit load_cifar10(const std::string& dir) {
  const std::string d = resolve_dir(dir, "data_batch_1.bin", "cifar-10-batches-bin", CifarKind::Cifar10);
  const DatasetInfo& info = dataset_info("cifar10");
  std::vector<std::string> train;
  for (int i = 1; i <= 5; ++i) train.push_back(join_path(d, "data_batch_" + std::to_string(i) + ".bin"));
  const std::string test = join_path(d, "test_batch.bin");
  DataSplit out;
  out.train = make_dataset(info, "train", read_cifar_files(train, CifarKind::Cifar10, 10000), info.train_count,
                           join_path(d, "data_batch_{1..5}.bin"));
  out.test = make_dataset(info, "test", read_cifar_files({test}, CifarKind::Cifar10, 10000), info.test_count, test);
  return out;
}

DataSplit load_cifar100(const std::string& dir) {
  const std::string d = resolve_dir(dir, "train.bin", "cifar-100-binary", CifarKind::Cifar100);
  const DatasetInfo& info = dataset_info("cifar100");
  const std::string train = join_path(d, "train.bin"), test = join_path(d, "test.bin");
  DataSplit out;
  out.train = make_dataset(info, "train", read_cifar_files({train}, CifarKind::Cifar100, info.train_count),
                           info.train_count, train);
  out.test = make_dataset(info, "test", read_cifar_files({test}, CifarKind::Cifar100, info.test_count),
                          info.test_count, test);
  return out;
}

}  // namespace bts
