// CIFAR-10/100 binary and IDX (Fashion-MNIST) readers on small files written in the exact formats, including
// malformed ones; data set names and constants; load_dataset on full-size CIFAR layouts (sparse files).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/file_io.h"
#include "data/idx.h"
#include "tests/cpu/test_data_files.h"

using namespace bts;
using namespace bts::test;

namespace {

// One CIFAR record: label byte(s) then R, G, B planes of sample i's pattern.
Bytes cifar_record(CifarKind kind, int64_t i, int label, int coarse = 0) {
  Bytes r;
  if (kind == CifarKind::Cifar100) r.push_back(static_cast<uint8_t>(coarse));
  r.push_back(static_cast<uint8_t>(label));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r.push_back(pattern_pixel(i, c, y, x));
  return r;
}

Bytes cifar_file(CifarKind kind, int64_t first, const std::vector<int>& labels) {
  Bytes b;
  for (size_t k = 0; k < labels.size(); ++k) {
    Bytes r = cifar_record(kind, first + static_cast<int64_t>(k), labels[k], labels[k] / 5);
    b.insert(b.end(), r.begin(), r.end());
  }
  return b;
}

void check_pattern(const Tensor& images, int64_t sample, int64_t pattern_id) {
  const int64_t c = images.dim(1), h = images.dim(2), w = images.dim(3);
  const uint8_t* p = images.data<uint8_t>() + sample * c * h * w;
  int64_t bad = 0;
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) bad += p[(ch * h + y) * w + x] != pattern_pixel(pattern_id, ch, y, x);
  CHECK_MESSAGE(bad == 0, "sample " << sample << ": " << bad << " pixels differ from pattern " << pattern_id);
}

// A sparse file of `size` zero bytes (a full-size data set file without writing 30 MB), with `patch` at `at`.
void sparse_file(const std::string& path, size_t size, size_t at = 0, const Bytes& patch = {}) {
  { std::ofstream create(path, std::ios::binary | std::ios::trunc); }
  std::filesystem::resize_file(std::filesystem::path(path), size);
  if (patch.empty()) return;
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(reinterpret_cast<const char*>(patch.data()), static_cast<std::streamsize>(patch.size()));
  REQUIRE(f.good());
}

void touch(const std::string& path) { write_bytes(path, {}); }

}  // namespace

TEST_SUITE("data_readers") {

TEST_CASE("data set names and constants are the paper's (METHODS.md)") {
  CHECK(dataset_names() == std::vector<std::string>{"cifar10", "cifar100", "svhn", "miniimagenet", "fashion-mnist"});
  const DatasetInfo& c10 = dataset_info("cifar10");
  CHECK(c10.classes == 10);
  CHECK(c10.mean == std::vector<float>{0.4914f, 0.4822f, 0.4465f});
  CHECK(c10.std == std::vector<float>{0.2023f, 0.1994f, 0.2010f});
  const DatasetInfo& c100 = dataset_info("cifar100");
  CHECK(c100.classes == 100);
  CHECK(c100.mean == std::vector<float>{0.5071f, 0.4867f, 0.4408f});
  CHECK(c100.std == std::vector<float>{0.2675f, 0.2565f, 0.2761f});
  const DatasetInfo& svhn = dataset_info("svhn");
  CHECK(svhn.mean == std::vector<float>{0.5f, 0.5f, 0.5f});
  CHECK(svhn.std == std::vector<float>{0.5f, 0.5f, 0.5f});
  CHECK_FALSE(svhn.flip);  // digits: no horizontal flip
  CHECK(svhn.train_count == 73257);
  CHECK(svhn.test_count == 26032);
  const DatasetInfo& mini = dataset_info("miniimagenet");
  CHECK(mini.mean == std::vector<float>{0.4728f, 0.4487f, 0.4031f});
  CHECK(mini.std == std::vector<float>{0.2744f, 0.2663f, 0.2806f});
  CHECK(mini.height == 84);
  CHECK(mini.train_count == 50000);
  const DatasetInfo& fm = dataset_info("fashion-mnist");
  CHECK(fm.channels == 1);
  CHECK(fm.mean == std::vector<float>{0.2860f});
  CHECK(fm.std == std::vector<float>{0.3530f});
  CHECK(fm.train_count == 60000);
  for (const std::string& n : dataset_names()) CHECK((n == "svhn") != dataset_info(n).flip);
}

TEST_CASE("an unknown data set name is rejected with the list of valid names") {
  check_error([] { load_dataset("cifar-10", "/nonexistent"); },
              {"unknown data set 'cifar-10'", "cifar10, cifar100, svhn, miniimagenet, fashion-mnist"});
}

TEST_CASE("CIFAR-10 records decode to labels and R, G, B planes in NCHW order") {
  TempDir dir;
  const std::vector<int> labels{3, 0, 9, 7};
  write_bytes(dir.file("a.bin"), cifar_file(CifarKind::Cifar10, 0, labels));
  write_bytes(dir.file("b.bin"), cifar_file(CifarKind::Cifar10, 4, {1, 2}));
  ImageSet s = read_cifar_files({dir.file("a.bin"), dir.file("b.bin")}, CifarKind::Cifar10);
  REQUIRE(s.images.shape() == Shape{6, 3, 32, 32});
  const std::vector<int> want{3, 0, 9, 7, 1, 2};
  for (int i = 0; i < 6; ++i) {
    CHECK(s.labels.data<int32_t>()[i] == want[static_cast<size_t>(i)]);
    check_pattern(s.images, i, i);
  }
}

TEST_CASE("CIFAR-100 uses the fine label and checks both") {
  TempDir dir;
  Bytes b = cifar_file(CifarKind::Cifar100, 0, {42, 99, 0});
  ImageSet s = parse_cifar(b.data(), b.size(), "train.bin", CifarKind::Cifar100);
  REQUIRE(s.size() == 3);
  CHECK(s.labels.data<int32_t>()[0] == 42);
  CHECK(s.labels.data<int32_t>()[1] == 99);
  check_pattern(s.images, 2, 2);
  Bytes bad_fine = b;
  bad_fine[1 * 3074 + 1] = 100;
  check_error([&] { parse_cifar(bad_fine.data(), bad_fine.size(), "train.bin", CifarKind::Cifar100); },
              {"'train.bin'", "record 1", "fine label 100", "expected 0..99"});
  Bytes bad_coarse = b;
  bad_coarse[2 * 3074] = 20;
  check_error([&] { parse_cifar(bad_coarse.data(), bad_coarse.size(), "train.bin", CifarKind::Cifar100); },
              {"record 2", "coarse label 20", "expected 0..19"});
  // A CIFAR-10 file read as CIFAR-100: 3073-byte records are not whole 3074-byte ones.
  Bytes c10 = cifar_file(CifarKind::Cifar10, 0, {1, 2, 3});
  check_error([&] { parse_cifar(c10.data(), c10.size(), "test.bin", CifarKind::Cifar100); },
              {"'test.bin'", "9,219 bytes", "3074-byte CIFAR-100 records", "truncated"});
}

TEST_CASE("malformed CIFAR-10 files are rejected naming the file, the expectation and the finding") {
  TempDir dir;
  Bytes good = cifar_file(CifarKind::Cifar10, 0, {1, 2, 3});
  Bytes truncated(good.begin(), good.end() - 1000);
  write_bytes(dir.file("trunc.bin"), truncated);
  check_error([&] { read_cifar_files({dir.file("trunc.bin")}, CifarKind::Cifar10); },
              {dir.file("trunc.bin"), "not a whole number of 3073-byte CIFAR-10 records", "record 2 is truncated",
               "2073 of 3073 bytes"});
  touch(dir.file("empty.bin"));
  check_error([&] { read_cifar_files({dir.file("empty.bin")}, CifarKind::Cifar10); },
              {dir.file("empty.bin"), "empty file"});
  Bytes bad_label = good;
  bad_label[2 * 3073] = 10;
  write_bytes(dir.file("label.bin"), bad_label);
  check_error([&] { read_cifar_files({dir.file("label.bin")}, CifarKind::Cifar10); },
              {dir.file("label.bin"), "record 2 has label 10", "expected 0..9"});
  write_bytes(dir.file("three.bin"), good);
  check_error([&] { read_cifar_files({dir.file("three.bin")}, CifarKind::Cifar10, 10000); },
              {dir.file("three.bin"), "expected 10,000 CIFAR-10 records (30,730,000 bytes)", "found 3 (9,219 bytes)"});
  check_error([&] { read_cifar_files({dir.file("three.bin"), dir.file("missing.bin")}, CifarKind::Cifar10); },
              {"cannot open", dir.file("missing.bin"), "No such file"});
  check_error([&] { read_cifar_files({dir.path()}, CifarKind::Cifar10); }, {dir.path(), "found a directory"});
}

TEST_CASE("load_dataset cifar10: full-size layout, files concatenated in order, nested folder found") {
  TempDir dir;
  const std::string d = dir.file("cifar-10-batches-bin");
  std::filesystem::create_directories(d);
  const size_t file_bytes = 10000 * 3073;
  // Zero files except one distinctive record per file: record 17 of batch k gets label k and pattern 100 + k.
  for (int k = 1; k <= 5; ++k)
    sparse_file(d + "/data_batch_" + std::to_string(k) + ".bin", file_bytes, 17 * 3073,
                cifar_record(CifarKind::Cifar10, 100 + k, k));
  sparse_file(d + "/test_batch.bin", file_bytes, 9999 * 3073, cifar_record(CifarKind::Cifar10, 200, 9));
  DataSplit s = load_dataset("cifar10", dir.path());  // the parent of the extracted folder
  REQUIRE(s.train.size() == 50000);
  REQUIRE(s.test.size() == 10000);
  CHECK(s.train.name == "cifar10");
  CHECK(s.train.split == "train");
  CHECK(s.test.split == "test");
  CHECK(s.train.classes == 10);
  CHECK(s.train.flip);
  CHECK(s.train.mean == dataset_info("cifar10").mean);
  CHECK(s.train.images.shape() == Shape{50000, 3, 32, 32});
  for (int k = 1; k <= 5; ++k) {
    const int64_t i = (k - 1) * 10000 + 17;
    CHECK(s.train.labels.data<int32_t>()[i] == k);
    check_pattern(s.train.images, i, 100 + k);
    CHECK(s.train.labels.data<int32_t>()[i - 1] == 0);
  }
  CHECK(s.test.labels.data<int32_t>()[9999] == 9);
  check_pattern(s.test.images, 9999, 200);

  // A batch of the wrong size is named, with the record count the real file has.
  sparse_file(d + "/data_batch_3.bin", file_bytes - 3073);
  check_error([&] { load_dataset("cifar10", d); },
              {d + "/data_batch_3.bin", "expected 10,000 CIFAR-10 records", "found 9,999"});
  std::filesystem::remove(d + "/test_batch.bin");
  sparse_file(d + "/data_batch_3.bin", file_bytes);
  check_error([&] { load_dataset("cifar10", d); }, {"cannot open", d + "/test_batch.bin"});
  TempDir empty;
  check_error([&] { load_dataset("cifar10", empty.path()); },
              {empty.file("data_batch_1.bin"), "not found", "cifar-10-batches-bin"});
}

TEST_CASE("load_dataset cifar100: train.bin and test.bin, fine labels") {
  TempDir dir;
  sparse_file(dir.file("train.bin"), 50000 * 3074, 49999 * 3074, cifar_record(CifarKind::Cifar100, 5, 73, 14));
  sparse_file(dir.file("test.bin"), 10000 * 3074, 0, cifar_record(CifarKind::Cifar100, 6, 99, 19));
  DataSplit s = load_dataset("cifar100", dir.path());
  REQUIRE(s.train.size() == 50000);
  CHECK(s.train.classes == 100);
  CHECK(s.train.labels.data<int32_t>()[49999] == 73);
  check_pattern(s.train.images, 49999, 5);
  CHECK(s.test.labels.data<int32_t>()[0] == 99);
  check_pattern(s.test.images, 0, 6);
  sparse_file(dir.file("test.bin"), 10000 * 3074 + 1);
  check_error([&] { load_dataset("cifar100", dir.path()); },
              {dir.file("test.bin"), "not a whole number of 3074-byte CIFAR-100 records", "record 10000 is truncated"});
}

TEST_CASE("IDX: plain and gzip files parse to the same images and labels") {
  TempDir dir;
  const int n = 5, h = 28, w = 28;
  Bytes pixels;
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) pixels.push_back(pattern_pixel(i, 0, y, x));
  const Bytes images = idx_bytes({n, h, w}, pixels), labels = idx_bytes({n}, {9, 0, 3, 9, 1});
  write_bytes(dir.file("im"), images);
  write_bytes(dir.file("lab"), labels);
  std::vector<std::string> suffixes{""};
#ifndef BTS_NO_ZLIB
  write_bytes(dir.file("im.gz"), gzip_bytes(images));
  write_bytes(dir.file("lab.gz"), gzip_bytes(labels));
  suffixes.push_back(".gz");
  // Concatenated gzip members are one stream (as gunzip treats them).
  Bytes first(labels.begin(), labels.begin() + 6), rest(labels.begin() + 6, labels.end());
  Bytes two = gzip_bytes(first), tail = gzip_bytes(rest);
  two.insert(two.end(), tail.begin(), tail.end());
  CHECK(gunzip(two.data(), two.size(), "two.gz", 1 << 20) == labels);
#endif
  for (const std::string& suffix : suffixes) {
    CAPTURE(suffix);
    ImageSet s = read_idx_pair(dir.file("im" + suffix), dir.file("lab" + suffix), 10);
    REQUIRE(s.images.shape() == Shape{n, 1, h, w});
    for (int i = 0; i < n; ++i) check_pattern(s.images, i, i);
    CHECK(s.labels.to_double_vector() == std::vector<double>{9, 0, 3, 9, 1});
  }
}

TEST_CASE("malformed IDX files are rejected with the file, the expectation and the finding") {
  const Bytes good = idx_bytes({2, 3, 4}, Bytes(24, 7));
  auto parse = [](const Bytes& b) { return [b] { parse_idx(b.data(), b.size(), "f.idx"); }; };
  Bytes magic = good;
  magic[0] = 0x12;
  check_error(parse(magic), {"'f.idx'", "bad magic 12 00 08 03", "expected an IDX file"});
  Bytes type = good;
  type[2] = 0x0d;
  check_error(parse(type), {"'f.idx'", "element type 0x0d", "expected 0x08 (unsigned byte)"});
  Bytes rank = good;
  rank[3] = 0;
  check_error(parse(rank), {"IDX rank 0", "expected 1..4"});
  check_error(parse(Bytes(good.begin(), good.begin() + 10)), {"truncated IDX header", "expected 16 bytes", "found 10"});
  check_error(parse(Bytes(good.begin(), good.end() - 1)),
              {"'f.idx'", "expected 24 data bytes for dimensions 2x3x4", "found 23", "truncated"});
  Bytes longer = good;
  longer.push_back(0);
  check_error(parse(longer), {"found 25", "trailing bytes"});
  check_error(parse(Bytes{0, 0}), {"too short"});
  check_error(parse(idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, {})), {"implausibly large"});
}

#ifndef BTS_NO_ZLIB
TEST_CASE("malformed gzip files are rejected: corrupt, truncated, trailing bytes, over the size cap") {
  const Bytes good = idx_bytes({2, 3, 4}, Bytes(24, 7));
  const Bytes gz = gzip_bytes(good);
  check_error([&] { parse_idx(gz.data(), gz.size(), "f.idx"); }, {"bad magic 1f 8b", "gzip-compressed"});
  TempDir dir;
  Bytes corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0xff;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  write_bytes(dir.file("corrupt.gz"), corrupt);
  check_error([&] { IdxFileBytes b(dir.file("corrupt.gz")); }, {dir.file("corrupt.gz"), "gzip"});
  write_bytes(dir.file("short.gz"), Bytes(gz.begin(), gz.end() - 12));
  check_error([&] { IdxFileBytes b(dir.file("short.gz")); }, {dir.file("short.gz"), "truncated gzip stream"});
  Bytes trailing = gz;
  trailing.push_back(0);
  write_bytes(dir.file("trail.gz"), trailing);
  check_error([&] { IdxFileBytes b(dir.file("trail.gz")); }, {dir.file("trail.gz"), "trailing 1 bytes"});
  check_error([&] { gunzip(gz.data(), gz.size(), "cap.gz", 10); }, {"'cap.gz'", "more than 10 bytes"});
  CHECK(gunzip(gz.data(), gz.size(), "cap.gz", good.size()) == good);  // exactly at the limit is fine
}

TEST_CASE("gzip: the size cap bounds peak memory, not only the output's size") {
  // 512 MiB of zeros compress to about 0.5 MB. With a 256 MiB cap the decompression must fail without ever
  // holding anything near the cap (growing a buffer as output came once held 1.5x the cap), and within the cap it
  // holds the output once (not twice). Measured in a child process as its peak resident size.
  const Bytes bomb = [] {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(size_t(2) << 20), zeros(size_t(1) << 20, 0);
    size_t done = 0;
    for (int chunk = 0; chunk < 512; ++chunk) {
      zs.next_in = zeros.data();
      zs.avail_in = static_cast<uInt>(zeros.size());
      do {
        zs.next_out = out.data() + done;
        zs.avail_out = static_cast<uInt>(out.size() - done);
        deflate(&zs, chunk == 511 ? Z_FINISH : Z_NO_FLUSH);
        done = out.size() - zs.avail_out;
      } while (zs.avail_in > 0 || (chunk == 511 && zs.avail_out == 0));
    }
    deflateEnd(&zs);
    out.resize(done);
    return out;
  }();
  REQUIRE(bomb.size() < (size_t(2) << 20));
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("SKIPPED: resident-size bounds do not hold under AddressSanitizer's allocator");
  return;
#endif
  auto peak_growth_mib = [&](size_t cap) {
    int fd[2];
    REQUIRE(::pipe(fd) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      struct rusage before {}, after {};
      ::getrusage(RUSAGE_SELF, &before);
      size_t got = 0;
      try {
        got = gunzip(bomb.data(), bomb.size(), "bomb.gz", cap).size();
      } catch (const std::exception&) {
      }
      ::getrusage(RUSAGE_SELF, &after);
      (void)got;
      const long growth = (after.ru_maxrss - before.ru_maxrss) / 1024;
      (void)!::write(fd[1], &growth, sizeof growth);
      ::_exit(0);
    }
    ::close(fd[1]);
    long growth = -1;
    (void)!::read(fd[0], &growth, sizeof growth);
    ::close(fd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return growth;
  };
  const long over = peak_growth_mib(size_t(256) << 20);
  INFO("peak growth over the cap: " << over << " MiB");
  CHECK(over >= 0);
  CHECK(over < 32);
  const long within = peak_growth_mib(size_t(512) << 20);
  INFO("peak growth within the cap (512 MiB out): " << within << " MiB");
  CHECK(within < 512 + 64);
}
#endif

TEST_CASE("IDX image/label pairs: counts, ranks and label range are checked") {
  TempDir dir;
  write_bytes(dir.file("im"), idx_bytes({3, 2, 2}, Bytes(12, 1)));
  write_bytes(dir.file("lab4"), idx_bytes({4}, {0, 1, 2, 3}));
  check_error([&] { read_idx_pair(dir.file("im"), dir.file("lab4"), 10); },
              {dir.file("lab4"), "holds 4 labels", dir.file("im"), "holds 3 images"});
  write_bytes(dir.file("lab_bad"), idx_bytes({3}, {0, 10, 2}));
  check_error([&] { read_idx_pair(dir.file("im"), dir.file("lab_bad"), 10); },
              {dir.file("lab_bad"), "label 10 of sample 1", "outside 0..9"});
  write_bytes(dir.file("lab2d"), idx_bytes({3, 1}, {0, 1, 2}));
  check_error([&] { read_idx_pair(dir.file("im"), dir.file("lab2d"), 10); },
              {dir.file("lab2d"), "expected labels of rank 1", "rank 2 (3x1)"});
  write_bytes(dir.file("im2d"), idx_bytes({3, 4}, Bytes(12, 1)));
  check_error([&] { read_idx_pair(dir.file("im2d"), dir.file("lab4"), 10); },
              {dir.file("im2d"), "expected images of rank 3", "rank 2"});
}

TEST_CASE("Fashion-MNIST loader: plain preferred over .gz, wrong counts and shapes and missing files named") {
  TempDir dir;
#ifndef BTS_NO_ZLIB
  auto put = [&](const std::string& name, const Bytes& b, bool gz) {
    write_bytes(dir.file(gz ? name + ".gz" : name), gz ? gzip_bytes(b) : b);
  };
  const std::string gz = ".gz";
#else
  auto put = [&](const std::string& name, const Bytes& b, bool) { write_bytes(dir.file(name), b); };
  const std::string gz;
#endif
  put("train-images-idx3-ubyte", idx_bytes({2, 28, 28}, Bytes(2 * 784, 3)), true);
  put("train-labels-idx1-ubyte", idx_bytes({2}, {1, 2}), false);
  put("t10k-images-idx3-ubyte", idx_bytes({1, 28, 28}, Bytes(784, 3)), true);
  put("t10k-labels-idx1-ubyte", idx_bytes({1}, {4}), true);
  CHECK(find_idx_file(dir.path(), "train-images-idx3-ubyte") == dir.file("train-images-idx3-ubyte" + gz));
  CHECK(find_idx_file(dir.path(), "train-labels-idx1-ubyte") == dir.file("train-labels-idx1-ubyte"));
  check_error([&] { load_dataset("fashion-mnist", dir.path()); },
              {"fashion-mnist train", dir.file("train-images-idx3-ubyte" + gz), "expected 60,000 images, found 2"});
  put("train-images-idx3-ubyte", idx_bytes({2, 32, 32}, Bytes(2 * 1024, 3)), false);  // plain now wins
  check_error([&] { load_dataset("fashion-mnist", dir.path()); },
              {dir.file("train-images-idx3-ubyte"), "expected images of shape 1x28x28, found 1x32x32"});
  check_error([&] { find_idx_file(dir.path(), "nothing-idx1-ubyte"); },
              {dir.file("nothing-idx1-ubyte"), dir.file("nothing-idx1-ubyte.gz"), "neither"});
}

TEST_CASE("make_dataset checks shape, counts and labels against the data set's constants") {
  const DatasetInfo& info = dataset_info("cifar10");
  auto set = [](int64_t n, int c, int h, int w, int32_t label) {
    ImageSet s{Tensor::zeros({n, c, h, w}, DType::U8), Tensor::zeros({n}, DType::I32)};
    s.labels.data<int32_t>()[n - 1] = label;
    return s;
  };
  check_error([&] { make_dataset(info, "train", set(2, 1, 32, 32, 0), -1, "x.bin"); },
              {"cifar10 train (x.bin)", "expected images of shape 3x32x32, found 1x32x32"});
  check_error([&] { make_dataset(info, "train", set(2, 3, 32, 32, 10), -1, "x.bin"); },
              {"label 10 of sample 1", "outside 0..9"});
  check_error([&] { make_dataset(info, "test", set(2, 3, 32, 32, 0), 10000, "x.bin"); },
              {"cifar10 test", "expected 10,000 images, found 2"});
  Dataset d = make_dataset(info, "test", set(2, 3, 32, 32, 9), 2, "x.bin");
  CHECK(d.size() == 2);
  CHECK(d.channels() == 3);
  CHECK(d.height() == 32);
  CHECK(d.labels.data<int32_t>()[1] == 9);
}

}  // TEST_SUITE
